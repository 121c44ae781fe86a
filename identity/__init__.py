"""Identity: pseudonyms, passphrases, recovery codes and accounts for anonymous members."""
