"""A small criteria definition for engine and service tests (independent of the shipped criteria)."""

SMALL = {
    "boundary": "favourable",
    "pass_score": 30,
    "base_conditions": [
        {
            "key": "sme",
            "label": "SME",
            "expr": "size_class in ['medium', 'small', 'micro']",
            "source": "300号",
        },
        {"key": "revenue", "label": "revenue ≥ 1000", "expr": "revenue_y1 >= 1000", "source": "test"},
    ],
    "groups": [
        {
            "key": "innovation",
            "label": "innovation",
            "min_points": 10,
            "indicators": [
                {
                    "key": "rd",
                    "label": "R&D ratio",
                    "source": "test",
                    "max_points": 20,
                    "value": "rd_ratio_y1",
                    "brackets": [
                        {"min": 0.05, "points": 20},
                        {"min": 0.03, "max": 0.05, "points": 15},
                        {"min": 0.01, "max": 0.03, "points": 5},
                        {"max": 0.01, "points": 0},
                    ],
                },
            ],
        },
        {
            "key": "finance",
            "label": "finance",
            "min_points": 5,
            "indicators": [
                {
                    "key": "debt",
                    "label": "debt ratio",
                    "source": "test",
                    "max_points": 10,
                    "value": "debt_ratio_y1",
                    "brackets": [
                        {"max": 0.55, "points": 10},
                        {"min": 0.55, "max": 0.75, "points": 5},
                        {"min": 0.75, "points": 0},
                    ],
                },
                {
                    "key": "quality",
                    "label": "quality",
                    "source": "test",
                    "max_points": 5,
                    "items": [{"when": "own_brand", "points": 3}, {"when": "quality_award", "points": 3}],
                    "cap": 5,
                },
            ],
        },
    ],
    "direct": [
        {"key": "ht", "label": "high-tech enterprise", "expr": "high_tech_enterprise", "source": "test"}
    ],
    "exclusions": [
        {"key": "false", "label": "false information", "expr": "negative_false_info", "source": "test"}
    ],
    "library": {"max_missing": 2, "source": "test"},
}
