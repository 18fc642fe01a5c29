"""Template tags every template has (settings.TEMPLATES "builtins"), for text that differs by language
in punctuation, not words.

`{% translate "Source" %}{% colon %}` writes 来源： in Chinese (the full-width colon, no space) and
"Source: " in English, where a colon typed into the template printed 来源: beside Chinese text.
"""

from django import template
from django.utils.translation import get_language

register = template.Library()


@register.simple_tag
def colon():
    return "：" if (get_language() or "").startswith("zh") else ": "
