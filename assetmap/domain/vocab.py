"""Controlled vocabularies: the fixed lists an asset's fields are chosen from.

Each is an ordered mapping of id -> human label, so forms, filters, exports and the API all use
the same ids and the same words.
"""

from __future__ import annotations

from types import MappingProxyType

COSTS = MappingProxyType(
    {
        "free": "Free",
        "low_cost": "Low cost",
        "paid": "Paid",
    }
)

CURRENCIES = MappingProxyType(
    {
        "cash": "Cash or card",
        "personal_budget": "Personal budget or direct payment",
        "time_credits": "Time credits",
    }
)

ACCESSIBILITY = MappingProxyType(
    {
        "step_free": "Step-free access",
        "accessible_toilet": "Accessible toilet",
        "changing_places": "Changing Places toilet",
        "hearing_loop": "Hearing loop",
        "bsl": "British Sign Language (BSL)",
        "quiet_space": "Quiet space",
        "disabled_parking": "Disabled parking",
        "accessible_changing": "Accessible changing facilities",
        "assistance_dogs": "Assistance dogs welcome",
        "easy_read": "Easy read information",
    }
)

AUDIENCES = MappingProxyType(
    {
        "everyone": "Everyone",
        "older_people": "Older people",
        "carers": "Carers",
        "learning_disabilities": "People with learning disabilities",
        "mental_health": "People with mental health conditions",
        "physical_disabilities": "People with physical disabilities",
        "autistic_people": "Autistic people",
        "young_people": "Young people",
        "families": "Families with children",
    }
)

PROVIDER_TYPES = MappingProxyType(
    {
        "statutory": "Statutory (council or NHS)",
        "voluntary_community": "Voluntary or community",
        "faith": "Faith organisation",
        "user_led": "User-led organisation",
        "private": "Private business",
    }
)

STATUSES = MappingProxyType(
    {
        "pending": "Pending moderation",
        "published": "Published",
        "rejected": "Rejected",
        "archived": "Archived",
    }
)
