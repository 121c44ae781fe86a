"""Web plumbing shared by every feature: templates, CSRF, headers, errors, client networks."""
