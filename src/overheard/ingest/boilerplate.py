"""Site furniture that articles carry between sentences: stored, marked, never analysed."""

import re

BOILERPLATE = re.compile(
    r"sign up for|newsletter|sent to your inbox|subscribe to|click here|follow us on|"
    r"read more:|share this article|privacy policy|terms and conditions|cookie|"
    r"advertisement|download (?:the|our) app|all rights reserved|"
    r"подпис(?:ывайтесь|аться|ывайся)|читайте также|реклама|все права защищены|"
    r"підписуйтесь|читайте також",
    re.IGNORECASE,
)


def is_boilerplate(sentence: str) -> bool:
    return bool(BOILERPLATE.search(sentence))
