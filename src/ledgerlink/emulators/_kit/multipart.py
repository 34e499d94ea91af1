"""Files from a ``multipart/form-data`` body (RFC 7578), read with the standard library's
e-mail parser: an emulator of an ERP's file upload (Fortnox ``POST /3/inbox``) needs no extra
dependency for it."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

__all__ = ["MultipartError", "UploadedFile", "uploaded_files"]


class MultipartError(ValueError):
    """The body is not ``multipart/form-data`` or a part of it cannot be read."""


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """One file part: its form field, file name, content type and bytes."""

    field: str
    filename: str
    content_type: str
    content: bytes


def uploaded_files(body: bytes, content_type: str) -> list[UploadedFile]:
    """The file parts of ``body`` (parts without a file name are form values, left out)."""
    if (
        not content_type.lower().startswith("multipart/form-data")
        or "boundary=" not in content_type
    ):
        raise MultipartError("The body must be multipart/form-data with a boundary.")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        raise MultipartError("The multipart body has no parts.")
    files: list[UploadedFile] = []
    for part in message.iter_parts():
        if not isinstance(part, EmailMessage) or part.get_content_disposition() != "form-data":
            continue
        filename = part.get_filename()
        if filename is None:
            continue
        payload = part.get_payload(decode=True)
        files.append(
            UploadedFile(
                field=str(part.get_param("name", "", header="content-disposition")),
                filename=filename,
                content_type=part.get_content_type(),
                content=payload if isinstance(payload, bytes) else b"",
            )
        )
    return files
