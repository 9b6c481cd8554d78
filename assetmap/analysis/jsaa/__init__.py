"""Joint Strategic Assets Assessment: community assets set against needs, area by area.

The pieces, each usable alone:

* :mod:`.config`: the saved TOML config and its checks (:func:`load_config`).
* :mod:`assetmap.analysis.needs`: boundary sets and indicator tables, with validation.
* :mod:`.assessment`: the pure per-area computation (:func:`assess`).
* :mod:`.scores`: percentiles, need/access/gap scores, the priority rule and :data:`METHOD`.
* :mod:`.run`: one run from a config and a store (:func:`run_jsaa`).
* :mod:`.outputs`: summary, provenance and files (:func:`write_outputs`).
"""

from __future__ import annotations

from assetmap.analysis.jsaa.assessment import ASSESS_STEPS, AssessmentParams, assess
from assetmap.analysis.jsaa.config import ConfigError, JsaaConfig, load_config
from assetmap.analysis.jsaa.outputs import WRITE_STEPS, build_summary, write_outputs
from assetmap.analysis.jsaa.run import JsaaResult, assessment_params, run_jsaa, run_steps
from assetmap.analysis.jsaa.scores import METHOD

__all__ = [
    "ASSESS_STEPS",
    "METHOD",
    "WRITE_STEPS",
    "AssessmentParams",
    "ConfigError",
    "JsaaConfig",
    "JsaaResult",
    "assess",
    "assessment_params",
    "build_summary",
    "load_config",
    "run_jsaa",
    "run_steps",
    "write_outputs",
]
