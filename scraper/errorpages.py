"""Error, login, "not found" and maintenance pages served with status 200, recognised by their
wording (in several languages) and by their shape: a generic short page.

The wording alone never condemns a long page: a chapter on "Maintenance of Records" or one
that tells staff what to do when "the page is not found" is a chapter. Wording counts in the
title, in a short page's first heading, or anywhere in a page too short to be a chapter.
"""

from __future__ import annotations

import functools
import re

from scraper.models import Chapter

__all__ = ["SHORT_PAGE_CHARS", "error_wording"]

SHORT_PAGE_CHARS = 1_500  # a page with less text than this may be an error page by wording
_TITLE_CHARS = 80

_EN = (
    r"page not found|not found|404|410 gone|no longer available|does not exist|doesn'?t exist"
    r"|(?:could ?n[o']t|can ?n[o']t|cannot|unable to) (?:be )?(?:find|found|locate)"
    r"|sorry,? (?:we|this page|the page|something)|something went wrong|an error (?:has )?occurred"
    r"|(?:down|closed) for maintenance|under maintenance|maintenance (?:mode|window|in progress)"
    r"|scheduled maintenance|planned maintenance|temporarily (?:unavailable|offline|down|closed)"
    r"|(?:site|service|website) (?:is )?(?:temporarily )?(?:unavailable|offline|down)"
    r"|service unavailable|bad gateway|gateway time-?out|internal server error|error \d{3}"
    r"|access denied|403 forbidden|401 unauthori[sz]ed|permission denied"
    r"|please (?:log|sign) ?in|(?:log|sign) ?in to (?:continue|view|access)"
    r"|session (?:has )?expired"
    r"|we'?ll be back soon|back (?:online )?shortly|try again later|too many requests"
    r"|are you a (?:human|robot)|verify (?:that )?you are (?:a )?human|checking your browser"
    r"|enable javascript|javascript is (?:required|disabled)"
)
_OTHERS = (
    r"page introuvable|page non trouv[ée]e|en maintenance|maintenance en cours"
    r"|service indisponible|temporairement indisponible|acc[èe]s refus[ée]|erreur \d{3}"
    r"|seite nicht gefunden|nicht gefunden|wartungsarbeiten|wartungsmodus"
    r"|vor[üu]bergehend nicht verf[üu]gbar|zugriff verweigert|fehler \d{3}"
    r"|p[áa]gina no encontrada|en mantenimiento|servicio no disponible|acceso denegado"
    r"|pagina non trovata|in manutenzione|servizio non disponibile|accesso negato"
    r"|pagina niet gevonden|onderhoud|tijdelijk niet beschikbaar|toegang geweigerd"
    r"|p[áa]gina n[ãa]o encontrada|em manuten[çc][ãa]o|servi[çc]o indispon[íi]vel"
    r"|strony nie znaleziono|przerwa techniczna|sidan hittades inte|siden blev ikke fundet"
)
_WORDING = rf"\b(?:{_EN}|{_OTHERS})\b|^(?:log ?in|sign ?in|log on|sign on)\b"


@functools.cache
def _wording() -> re.Pattern[str]:
    """Compiled on the first extracted page (about 2 ms): a run that extracts none never does."""
    return re.compile(_WORDING, re.I)


def _match(text: str) -> str | None:
    found = _wording().search(text)
    return found.group(0) if found else None


def error_wording(chapter: Chapter) -> str | None:
    """The error, login or maintenance wording of a page that reads as one, else None."""
    text_length = sum(len(s.text) for s in chapter.sections)
    heads = [chapter.title]
    if chapter.sections:
        heads.append(chapter.sections[0].title)
    for head in heads:
        if head and len(head) <= _TITLE_CHARS and (found := _match(head)):
            return found
    if text_length < SHORT_PAGE_CHARS:
        for section in chapter.sections:
            if found := _match(f"{section.title}\n{section.text}"):
                return found
    return None
