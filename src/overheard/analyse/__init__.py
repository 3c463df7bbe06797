"""Morale-indicator analysis (codebook v1): detector, keyword baseline, evaluation."""
from .indicators import (CODES, DETECTOR_VERSION, STANCES, AnalysisResult, Detector, Finding,
                         load_detector)

__all__ = ["CODES", "DETECTOR_VERSION", "STANCES", "AnalysisResult", "Detector", "Finding",
           "load_detector"]
