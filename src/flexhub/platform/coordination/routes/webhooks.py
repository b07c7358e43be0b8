"""Energy Coordination routes: webhooks (to be written)."""

from fastapi import APIRouter

router = APIRouter()
