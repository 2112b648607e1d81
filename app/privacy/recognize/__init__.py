"""Recognizers: each finds one idea of personal data in text and returns `Span`s, offsets
into the text it was given. `Redactor` (`app.privacy.redact`) runs them all, resolves
overlaps and swaps the chosen spans for placeholders.

A recognizer validates what it finds with a kept library (libphonenumber for phone
numbers, python-stdnum for IBANs and card numbers, email-validator for domains, the
standard library for IP addresses) and reports a value whole or not at all.
"""

from app.privacy.recognize.spans import Recognizer, Span, resolve

__all__ = ["Recognizer", "Span", "resolve"]
