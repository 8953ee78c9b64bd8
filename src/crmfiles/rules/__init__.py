"""The rules: one module per group, each rule a plain function that yields findings.

`suite` lists which rules run; `registry` describes every rule id."""
