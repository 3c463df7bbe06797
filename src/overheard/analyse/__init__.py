"""Morale-indicator analysis (codebook v1): rules + learned detector, keyword baseline, evaluation."""
from .hybrid import HybridDetector, load_detector
from .indicators import CODES, DETECTOR_VERSION, STANCES, AnalysisResult, Detector, Finding

__all__ = ["CODES", "DETECTOR_VERSION", "STANCES", "AnalysisResult", "Detector", "Finding",
           "HybridDetector", "load_detector"]
