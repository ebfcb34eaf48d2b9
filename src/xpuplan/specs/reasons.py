"""Why a configuration is rejected: an integer code per configuration, with the rule it breaks.

Evaluators return arrays of these codes (int8, 0 = fits) rather than raising per candidate;
each evaluator declares its own enum (`train.evaluate.TrainReason`,
`serve.evaluate.ServeReason`), so a code's meaning never depends on who reads it.
"""

from __future__ import annotations

from enum import IntEnum


class Reason(IntEnum):
    """Base class: members are `NAME = code, "the rule, as a user reads it"`."""

    message: str

    def __new__(cls, code: int, message: str = ""):
        member = int.__new__(cls, code)
        member._value_ = code
        member.message = message
        return member
