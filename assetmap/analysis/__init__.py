"""Analysis over stored assets: nearby search for coordinators, and (later) joins and gaps."""
