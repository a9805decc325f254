"""Station PKI: CA hierarchy, device certificate profile, CSR policy, CRL.

Pure logic over `cryptography` objects; files are read and written only by the small
convenience constructors in :mod:`station.pki.keys` and :mod:`station.pki.signer`.
"""
