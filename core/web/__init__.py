"""Web plumbing shared by every feature: templates, CSRF, headers, errors, client networks."""

from core.web.params import install_path_convertor

# Before any route is built (route modules import core.web, through identity.auth at least):
# `{id:int}` in a path then only matches ids a database column can hold (core/web/params.py).
install_path_convertor()
