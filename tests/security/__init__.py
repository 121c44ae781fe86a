"""The adversarial suite: anonymity, access and abuse, as an attacker would try them (issue 14)."""
