"""Gymnasium environments with a text face: Crafter (default), BabyAI, MineDojo."""

from __future__ import annotations
