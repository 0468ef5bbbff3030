"""The security app's writes: audit rows, security events, firewall blocks, the IP
allowlist and account unlocks; each takes `actor` and writes its audit row in the
same transaction as the change."""
