"""The page's one stylesheet, inline: for screens, and for paper (``@media print``)."""

CSS = """
:root { --amount: #4a78b5; --weighted: #e0a030; --won: #3f9a5a; --lost: #c4493f;
  --ink: #1d2330; --muted: #5b6475; --rule: #d9dde5; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--ink); background: #f6f7f9; }
header { padding: 1.2rem 2rem .6rem; background: #fff; border-bottom: 1px solid var(--rule); }
h1 { margin: 0 0 .2rem; font-size: 1.5rem; }
h2 { margin: 0 0 .8rem; font-size: 1.25rem; }
h3 { margin: 1rem 0 .4rem; font-size: 1.05rem; color: var(--muted); }
nav { display: flex; flex-wrap: wrap; gap: .4rem 1rem; margin-top: .6rem; }
nav a { color: var(--amount); text-decoration: none; }
main { padding: 1rem 2rem 3rem; }
section { background: #fff; border: 1px solid var(--rule); border-radius: 6px;
  padding: 1rem 1.2rem; margin-bottom: 1.2rem; }
.pair { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
figure { margin: 0; max-width: 100%; overflow-x: auto; }
svg.chart { display: block; max-width: 100%; height: auto; font-size: 12px; }
svg.chart text { fill: var(--ink); }
svg.chart text.value { fill: var(--muted); }
svg.chart .axis { stroke: var(--muted); stroke-width: 1; }
.s-amount { fill: var(--amount); } .s-weighted { fill: var(--weighted); }
.s-won { fill: var(--won); } .s-lost { fill: var(--lost); }
table { border-collapse: collapse; font-size: 13px; }
caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
th, td { padding: .2rem .6rem; border-bottom: 1px solid var(--rule); text-align: left; }
th { background: #f0f2f5; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.note, .empty { color: var(--muted); margin: .4rem 0; }
@media print {
  body { background: #fff; font-size: 10pt; }
  header { border: 0; padding: 0 0 .5rem; }
  nav { display: none; }
  main { padding: 0; }
  section { border: 0; padding: 0; margin: 0 0 1rem; break-inside: avoid; }
  .pair { break-inside: avoid; }
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
"""
