"""The fixed world of the synthetic CRM: catalogs, people, products and the words its
names and free text are made of.  Changing anything here changes every generated
repository (and so the benchmark's cache key)."""

from __future__ import annotations

from decimal import Decimal

STAGES: dict[str, tuple[str, int, tuple[str, ...]]] = {
    # id: (name, default probability, requires)
    "qualify": ("Qualify", 10, ()),
    "discovery": ("Discovery", 20, ()),
    "pilot": ("Pilot", 35, ("contacts",)),
    "proposal": ("Proposal", 45, ("amount",)),
    "negotiate": ("Negotiate", 65, ("expected_close",)),
    "commit": ("Commit", 85, ("amount", "expected_close")),
}
# id: (name, type, allowed, record_primary_demand, stages)
KINDS: dict[str, tuple[str, str, bool, bool, tuple[str, ...]]] = {
    "standard-sale": (
        "Standard sale",
        "standard",
        True,
        True,
        ("qualify", "discovery", "proposal", "negotiate", "commit"),
    ),
    "project-deal": (
        "Project deal",
        "custom",
        True,
        False,
        ("qualify", "pilot", "proposal", "negotiate", "commit"),
    ),
    "service-hours": ("Service hours", "stageless", True, False, ()),
    "legacy-rental": ("Legacy rental", "standard", False, False, ("qualify", "commit")),
}
KIND_WEIGHTS = (("standard-sale", 65), ("project-deal", 25), ("service-hours", 10))
STATUS_WEIGHTS = (("in_progress", 70), ("won", 18), ("lost", 12))

# id, name, roles
PEOPLE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("alice", "Alice Martin", ("sales",)),
    ("bob", "Bob Stone", ("sales",)),
    ("chen", "Chen Wei", ("sales",)),
    ("dana", "Dana Novak", ("sales",)),
    ("emil", "Emil Berger", ("sales",)),
    ("fatima", "Fatima Haddad", ("sales",)),
    ("goran", "Goran Petrović", ("sales",)),
    ("hana", "Hana Sato", ("sales",)),
    ("ines", "Inès Duval", ("sales",)),
    ("jonas", "Jonas Keller", ("sales",)),
    ("mia", "Mia Chef", ("manager", "sales")),
    ("olaf", "Olaf Brandt", ("manager",)),
    ("rosa", "Rosa Admin", ("admin",)),
)
SALES = tuple(p[0] for p in PEOPLE if "sales" in p[2])

# id, name, unit, list price (EUR), typical quantities
PRODUCTS: tuple[tuple[str, str, str, int, tuple[int, int]], ...] = (
    ("forklift-e25", "Electric forklift 2.5 t", "piece", 24500, (1, 8)),
    ("pallet-racking", "Pallet racking bay", "set", 1850, (4, 60)),
    ("wms-license", "Warehouse management licence", "license", 420, (5, 150)),
    ("wms-support", "WMS support", "month", 390, (12, 36)),
    ("consulting-day", "Consulting day", "day", 1200, (1, 25)),
    ("training-day", "Training day", "day", 950, (1, 6)),
    ("installation", "Installation service", "service", 3500, (1, 2)),
    ("telematics", "Fleet telematics unit", "piece", 640, (2, 40)),
    ("battery-pack", "Lithium battery pack", "piece", 5200, (1, 10)),
    ("conveyor", "Belt conveyor", "m", 780, (10, 180)),
    ("scanner", "Handheld scanner", "piece", 1150, (2, 50)),
    ("maintenance", "Maintenance contract", "year", 2900, (1, 3)),
    ("dev-hour", "Development hour", "hour", 110, (10, 400)),
    ("hosting", "Hosting", "month", 250, (12, 36)),
    ("sensor-kit", "IoT sensor kit", "set", 480, (2, 30)),
    ("audit", "Warehouse audit", "service", 6800, (1, 1)),
)
CURRENCIES = (("EUR", "Euro", "1"), ("USD", "US dollar", "0.92"), ("CHF", "Swiss franc", "1.04"))
PRICE_FACTOR = {"EUR": Decimal(1), "USD": Decimal("1.09"), "CHF": Decimal("0.96")}
CURRENCY_WEIGHTS = (("EUR", 85), ("USD", 10), ("CHF", 5))
LOSS_REASONS = (
    ("price", "Price too high"),
    ("no-budget", "No budget"),
    ("competitor", "Went with a competitor"),
    ("timing", "Bad timing"),
    ("no-decision", "No decision made"),
    ("lost-contact", "Lost contact"),
)
# id, name, impact
CHANNELS = (
    ("referral", "Referral by a partner", "partner"),
    ("event", "Trade fair or event", "campaign"),
    ("colleague", "Colleague", "person"),
    ("contact-referral", "Contact's recommendation", "contact"),
    ("web", "Web search", "none"),
    ("outbound", "Outbound call", "none"),
)
CAMPAIGNS = (
    ("logimat-2022", "LogiMAT 2022", "2022-05-31", "2022-06-02"),
    ("cemat-2022", "CeMAT 2022", "2022-09-14", "2022-09-16"),
    ("spring-webinars-2023", "Spring webinars 2023", "2023-03-01", "2023-05-31"),
    ("logimat-2023", "LogiMAT 2023", "2023-04-25", "2023-04-27"),
    ("open-house-2023", "Open house 2023", "2023-10-12", "2023-10-13"),
    ("logimat-2024", "LogiMAT 2024", "2024-03-19", "2024-03-21"),
    ("partner-days-2024", "Partner days 2024", "2024-06-10", "2024-06-12"),
    ("autumn-mailing-2024", "Autumn mailing 2024", "2024-09-01", "2024-09-30"),
)
TERMS = (("net14", "Net 14", 14), ("net30", "Net 30", 30), ("net60", "Net 60", 60))
TAGS = (
    "priority",
    "renewal",
    "upsell",
    "public-sector",
    "strategic",
    "pilot-customer",
    "export",
    "framework",
    "tender",
    "reference",
    "green",
    "at-risk",
)

# --- words for names and free text ----------------------------------------------------

FIRMS = (
    "Nordwind", "Blue Harbor", "Alpen", "Rheinland", "Müller", "Kessler", "Hansa",
    "Baltic", "Sonnen", "Falk", "Greenfield", "Ironbridge", "Lindqvist", "Weber",
    "Stern", "Atlas", "Helvetia", "Orion", "Keystone", "Bergmann", "Nova", "Krone",
    "Silverline", "Vogel", "Westhafen", "Danube", "Pioneer", "Schwarz", "Lumen",
    "Fjord", "Castell", "Meridian", "Ostsee", "Brenner", "Summit", "Adler", "Polaris",
    "Elbe", "Granit", "Horizon", "Jansen", "Lechner", "Marquardt", "Nieder", "Oakridge",
    "Peters", "Quandt", "Riviera", "Saale", "Tannen", "Ulmer", "Vesta", "Wagner",
    "Zeller", "Amsel", "Brückner", "Coastal", "Delta", "Eckert", "Fischer",
)  # fmt: skip
TRADES = (
    "Logistik", "Foods", "Spedition", "Pharma", "Retail", "Automotive", "Textil",
    "Getränke", "Papier", "Chemie", "Baustoffe", "Möbel", "Electronics", "Kühlhaus",
    "Versand", "Agrar", "Metall", "Medical", "Fashion", "Distribution", "Parts",
    "Brewing", "Packaging", "Plastics", "Tools", "Energy", "Paints", "Dairy",
    "Frozen Foods", "Books", "Garden", "Pet Supply", "Sports", "Toys", "Office",
    "Home", "Bikes", "Cosmetics", "Coffee", "Wine",
)  # fmt: skip
LEGAL = ("GmbH", "AG", "Ltd", "SA", "GmbH & Co. KG", "BV", "Inc.", "Sàrl")
INDUSTRIES = (
    "logistics", "food and beverage", "retail", "automotive supply", "pharma",
    "manufacturing", "wholesale", "e-commerce",
)  # fmt: skip
CITIES = (
    ("Hamburg", "DE", "20457"), ("Bremen", "DE", "28195"), ("München", "DE", "80331"),
    ("Köln", "DE", "50667"), ("Leipzig", "DE", "04109"), ("Zürich", "CH", "8001"),
    ("Basel", "CH", "4051"), ("Wien", "AT", "1010"), ("Lyon", "FR", "69002"),
    ("Rotterdam", "NL", "3011"), ("Antwerpen", "BE", "2000"), ("Göteborg", "SE", "41103"),
)  # fmt: skip
STREETS = ("Hafenstraße", "Industrieweg", "Am Kanal", "Lagerhausstraße", "Bahnhofstraße",
           "Gewerbepark", "Ringstraße", "Werftallee")  # fmt: skip
FIRST = (
    "Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Hugo", "Ida", "Jan",
    "Katrin", "Lukas", "Marie", "Nils", "Olga", "Paul", "Ruth", "Stefan", "Tanja", "Uwe",
    "Vera", "Wim", "Yusuf", "Zoe", "Élodie", "Jörg", "Søren", "Lea", "Tom", "Sara",
)  # fmt: skip
LAST = (
    "Schmidt", "Meyer", "Schulz", "Becker", "Hoffmann", "Koch", "Richter", "Klein",
    "Wolf", "Neumann", "Braun", "Zimmermann", "Krüger", "Hartmann", "Lange", "Werner",
    "Dubois", "Rossi", "Jansen", "Nielsen", "Novak", "Horvat", "Costa", "Berg",
    "Lindström", "Moreau", "Keller", "Frei", "Huber", "Brunner",
)  # fmt: skip
POSITIONS = ("Head of logistics", "Warehouse manager", "Purchasing", "CFO", "COO",
             "IT lead", "Operations director", "Managing director", "Plant manager",
             "Project manager")  # fmt: skip
TOPICS = (
    "forklift fleet renewal", "warehouse automation", "racking extension",
    "WMS rollout", "scanner refresh", "cold store fit-out", "conveyor line",
    "telematics pilot", "battery retrofit", "maintenance framework", "site audit",
    "new distribution centre", "picking optimisation", "yard management",
    "returns handling", "cross-dock upgrade", "inventory tracking", "dock scheduling",
    "energy monitoring", "safety upgrade",
)  # fmt: skip
SUBJECTS = ("the warehouse team", "operations", "the night shift", "purchasing",
            "the plant manager", "the logistics lead", "their IT", "the board",
            "the site in the north", "the customer service desk")  # fmt: skip
PROBLEMS = (
    "loses pallets between receiving and storage",
    "runs an ageing diesel fleet that fails the new emission rules",
    "cannot see stock levels in real time",
    "picks orders twice because of scanner gaps",
    "pays overtime every peak season",
    "has no spare capacity for the new product line",
    "waits weeks for spare parts",
    "keeps inventory in spreadsheets",
    "misses delivery slots at the docks",
    "reports too many damaged goods",
)  # fmt: skip
PAINS = (
    "two lost shifts a week", "late deliveries and contract penalties",
    "high staff turnover", "stock write-offs every quarter",
    "customer complaints about wrong items", "rising energy bills",
    "an audit finding on safety", "idle trucks at the gate",
)  # fmt: skip
REASONS = (
    "a new warehouse opens in autumn", "the old service contract ends this year",
    "the budget was approved for the next quarter", "a large retail customer demands it",
    "the insurer asked for it", "the parent company standardises its sites",
)  # fmt: skip
IMPACTS = ("operations and finance", "the whole site", "two distribution centres",
           "shipping and returns", "every shift", "the purchasing team")  # fmt: skip
CAPABILITIES = (
    "electric trucks with fleet telemetry", "a WMS that talks to their ERP",
    "racking rated for heavier loads", "scanners that survive the cold store",
    "one service partner for all sites", "reporting the board can read",
)  # fmt: skip
MILESTONES = (
    "demo at the customer's warehouse", "send revised offer", "site visit with the engineer",
    "call with purchasing", "workshop on requirements", "reference visit",
    "present to the board", "trial installation", "clarify delivery dates",
    "agree on the service levels",
)  # fmt: skip
REMARKS = (
    "first contact at a trade fair", "budget confirmed by the controller",
    "decision by the operations board", "they compare three offers",
    "price is not the main criterion", "the champion is the head of logistics",
    "wants delivery before the peak season", "asked for a reference customer nearby",
    "the previous supplier let them down", "legal review of the contract takes time",
    "works council must agree", "may extend to a second site next year",
)  # fmt: skip
LINE_NOTES = (
    "incl. delivery", "two-year warranty", "price as agreed on the phone",
    "quantity to confirm", "first phase only", "list price less project bonus",
)  # fmt: skip
FREE_LINES = ("custom mounting brackets", "travel expenses", "project management",
              "data migration from the old system", "on-site acceptance test",
              "extended warranty")  # fmt: skip
COMPETITOR_NOTES = ("cheaper offer, weaker service", "long-standing supplier",
                    "strong local presence", "offers leasing", "faster delivery",
                    "bundles hardware and software")  # fmt: skip
LOSS_NOTES = ("went with the incumbent", "project frozen until next year",
              "budget moved to another site", "no answer since the offer",
              "our price was 15 percent higher")  # fmt: skip

ASCII_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e",
                        "à": "a", "ø": "oe", "å": "a", "É": "e", "ć": "c"})  # fmt: skip
