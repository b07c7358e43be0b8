"""Energy Coordination routes: events (to be written)."""

from fastapi import APIRouter

router = APIRouter()
