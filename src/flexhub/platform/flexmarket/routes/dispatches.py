"""Flex Market routes: dispatches (to be written)."""

from fastapi import APIRouter

router = APIRouter()
