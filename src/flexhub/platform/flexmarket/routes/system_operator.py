"""Flex Market routes: system_operator (to be written)."""

from fastapi import APIRouter

router = APIRouter()
