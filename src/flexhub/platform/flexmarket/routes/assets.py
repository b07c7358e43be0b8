"""Flex Market routes: assets (to be written)."""

from fastapi import APIRouter

router = APIRouter()
