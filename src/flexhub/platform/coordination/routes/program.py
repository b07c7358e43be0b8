"""Energy Coordination routes: program (to be written)."""

from fastapi import APIRouter

router = APIRouter()
