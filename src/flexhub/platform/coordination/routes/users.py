"""Energy Coordination routes: users (to be written)."""

from fastapi import APIRouter

router = APIRouter()
