"""English glosses for Russian and Ukrainian text: a glossary-aware, checked language-model
translation stage (see docs/translation.md)."""

from .backends import BackendError, EndpointModel, LocalModel, embedded_model, open_backend
from .engine import Gloss, Translator
from .glossary import Glossary, GlossaryError
from .stage import SCOPES, TranslateReport, correct_gloss, gloss_label, plan, translate_store

__all__ = ["BackendError", "EndpointModel", "LocalModel", "embedded_model", "open_backend", "Gloss",
           "Translator", "Glossary", "GlossaryError", "SCOPES", "TranslateReport", "correct_gloss",
           "gloss_label", "plan", "translate_store"]
