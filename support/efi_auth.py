"""Reads a UEFI authenticated variable update (a `.auth` file, as
sign-efi-sig-list and `bhpack keys` write them): the X.509 certificates of
the signature lists it would write into PK, KEK or db.

Layout (UEFI 2.10, 8.2.2 and 32.4.1): EFI_VARIABLE_AUTHENTICATION_2 (an
EFI_TIME, then a WIN_CERTIFICATE_UEFI_GUID of type PKCS#7 whose dwLength
covers its header and the signature), then the variable's data: one or
more EFI_SIGNATURE_LISTs.

Used by support/test-keys.py (a TEST-ONLY certificate inside a .auth file
is a TEST-ONLY key) and support/secure-boot-enroll.py.
"""
import struct
import uuid

WIN_CERT_TYPE_EFI_GUID = 0x0EF1
CERT_TYPE_PKCS7 = uuid.UUID("4aafd29d-68df-49ee-8aa9-347d375665a7")
CERT_X509 = uuid.UUID("a5c059a1-94e4-4aa7-87b5-ab155c2bf072")


def certificates(data):
    """The DER X.509 certificates in a .auth file's signature lists.
    Raises ValueError, naming what is wrong, when data is not a .auth
    file or holds something other than X.509 certificates."""
    if len(data) < 16 + 24:
        raise ValueError("too short for an EFI_VARIABLE_AUTHENTICATION_2 header (%d bytes)" % len(data))
    length, revision, kind = struct.unpack_from("<IHH", data, 16)
    cert_type = uuid.UUID(bytes_le=bytes(data[24:40]))
    if revision != 0x0200 or kind != WIN_CERT_TYPE_EFI_GUID or cert_type != CERT_TYPE_PKCS7:
        raise ValueError("no PKCS#7 WIN_CERTIFICATE_UEFI_GUID after the timestamp: not a .auth file")
    pos = 16 + length
    if length < 24 or pos > len(data):
        raise ValueError("its signature length %d runs past the end (%d bytes)" % (length, len(data)))
    certs = []
    while pos < len(data):
        if pos + 28 > len(data):
            raise ValueError("a truncated signature list at byte %d" % pos)
        sig_type = uuid.UUID(bytes_le=bytes(data[pos:pos + 16]))
        list_size, header_size, sig_size = struct.unpack_from("<III", data, pos + 16)
        end = pos + list_size
        first = pos + 28 + header_size
        if end > len(data) or first > end or sig_size <= 16 or (end - first) % sig_size:
            raise ValueError("a malformed signature list at byte %d" % pos)
        if sig_type != CERT_X509:
            raise ValueError("a signature list of type %s at byte %d, not X.509 certificates"
                             % (sig_type, pos))
        for at in range(first, end, sig_size):
            certs.append(bytes(data[at + 16:at + sig_size]))  # after the owner GUID
        pos = end
    if not certs:
        raise ValueError("no certificate in it (an empty update would delete the variable)")
    return certs


def is_auth(data):
    """Whether data looks like a .auth file (and not a PEM key)."""
    try:
        certificates(data)
        return True
    except ValueError:
        return False
