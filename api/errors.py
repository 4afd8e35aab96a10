"""The API's error answer: ``{"error": "<message>", "details": {"code": ..., ...}}``."""

from django.http import JsonResponse


class ApiError(Exception):
    """An answer other than success: the status code, the message and its details."""

    def __init__(self, status: int, message: str, *, code: str, details=None, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = {"code": code, **(details or {})}
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        response = JsonResponse(
            {"error": self.message, "details": self.details}, status=self.status
        )
        for name, value in self.headers.items():
            response[name] = value
        return response


def invalid(message: str, *, fields: dict | None = None, code: str = "invalid") -> ApiError:
    """A 400: ``fields`` maps each faulty field (``lines[2].quantity``) to its message."""
    return ApiError(400, message, code=code, details={"fields": fields} if fields else None)
