"""Analyses shared by the lowering passes; they inspect the IR and rewrite nothing."""
from pipelang.lowering.analysis.intervals import (Interval, Monotonic, bounds_of_expr,
                                                  interval_intersect, interval_union,
                                                  is_monotonic)
from pipelang.lowering.analysis.evaluate import evaluate_expr

__all__ = ["Interval", "Monotonic", "bounds_of_expr", "interval_intersect", "interval_union",
           "is_monotonic", "evaluate_expr"]
