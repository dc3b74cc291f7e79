"""The machine screen: Detoxify over whole stories, plus community word lists.

model.py and loading.py hold the model, policy.py the thresholds and labels,
terms.py the word lists, normalise.py the copy of the text the screen reads, and
screening.py puts them together. The names below are the screen's public face."""

from services.moderation.screen.loading import ModelLoadError, resolve_precision
from services.moderation.screen.model import ScreenModel, fetch_model
from services.moderation.screen.policy import OUTCOMES, SCORE_LABELS, Policy, ScreenResult
from services.moderation.screen.screening import screen_stories, screen_texts
from services.moderation.screen.terms import compile_terms

__all__ = ["OUTCOMES", "SCORE_LABELS", "ModelLoadError", "Policy", "ScreenModel", "ScreenResult", "compile_terms",
           "fetch_model", "resolve_precision", "screen_stories", "screen_texts"]
