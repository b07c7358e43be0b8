"""Energy Coordination routes: simulation (to be written)."""

from fastapi import APIRouter

router = APIRouter()
