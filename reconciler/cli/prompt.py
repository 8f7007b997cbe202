"""The one question volplan asks: may it apply the plan shown?

Typed answers are what people type: ``y``, ``yes``, ``n``, ``no`` in any case; Enter takes
the default, no. The end of input (Ctrl-D, a closed pipe) is a no like any other, with the
same message, never a traceback.
"""

from __future__ import annotations

from rich.console import Console

_ANSWERS = {"y": True, "yes": True, "n": False, "no": False, "": False}


def confirm_apply(console: Console) -> bool:
    """True on yes; False on no, on Enter and at the end of input."""
    question = "Apply these changes? [y/N]: "
    while True:
        try:
            answer = console.input(question, markup=False).strip().lower()
        except EOFError:
            console.print()
            answer = "n"
        if answer in _ANSWERS:
            break
        console.print("Please answer yes or no (y/n).")
    return _ANSWERS[answer]
