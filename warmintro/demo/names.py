"""Word lists for the demo workspace: fictional people, companies, places and job titles.

Every company and person the generator writes is assembled from these parts, so nothing in a demo
workspace names a real person. Names carry an ASCII slug for email addresses and a gender tag that is
only used to pick an honorific ("Ms. Patel") in formal emails.
"""

from __future__ import annotations

import unicodedata

# (first name, gender) with F / M / N (N: no honorific, the formal voice uses the full name).
FIRST_NAMES: tuple[tuple[str, str], ...] = (
    ("Priya", "F"), ("Sam", "N"), ("Jordan", "N"), ("Maya", "F"), ("Daniel", "M"), ("Aisha", "F"),
    ("Tomás", "M"), ("Elena", "F"), ("Marcus", "M"), ("Hannah", "F"), ("Kenji", "M"), ("Fatima", "F"),
    ("Lucas", "M"), ("Chloé", "F"), ("Oliver", "M"), ("Amara", "F"), ("Mateo", "M"), ("Sofia", "F"),
    ("Ethan", "M"), ("Zoë", "F"), ("Noah", "M"), ("Leila", "F"), ("Gabriel", "M"), ("Ingrid", "F"),
    ("Rahul", "M"), ("Grace", "F"), ("Diego", "M"), ("Nadia", "F"), ("Samuel", "M"), ("Yara", "F"),
    ("Henrik", "M"), ("Olivia", "F"), ("Kwame", "M"), ("Mei", "F"), ("Arjun", "M"), ("Clara", "F"),
    ("Isaac", "M"), ("Alicia", "F"), ("Felix", "M"), ("Rosa", "F"), ("Tariq", "M"), ("Emma", "F"),
    ("Luca", "M"), ("Anya", "F"), ("Victor", "M"), ("Nora", "F"), ("Hugo", "M"), ("Imani", "F"),
    ("Julian", "M"), ("Sara", "F"), ("Andrés", "M"), ("Keiko", "F"), ("Owen", "M"), ("Lena", "F"),
    ("Caleb", "M"), ("Mariam", "F"), ("Rohan", "M"), ("Julia", "F"), ("Emeka", "M"), ("Ava", "F"),
    ("Benjamin", "M"), ("Ines", "F"), ("Adrian", "M"), ("Camila", "F"), ("Malik", "M"), ("Freya", "F"),
    ("Nikhil", "M"), ("Hana", "F"), ("Stefan", "M"), ("Lucia", "F"), ("Omar", "M"), ("Eva", "F"),
    ("Rafael", "M"), ("Ruth", "F"), ("Kofi", "M"), ("Paula", "F"), ("Jonas", "M"), ("Mira", "F"),
    ("Connor", "M"), ("Bianca", "F"), ("Dmitri", "M"), ("Laura", "F"), ("Elias", "M"), ("Naomi", "F"),
    ("Finn", "M"), ("Sakura", "F"), ("Theo", "M"), ("Valeria", "F"), ("Miguel", "M"), ("Helena", "F"),
    ("Wei", "N"), ("Alex", "N"), ("Casey", "N"), ("Robin", "N"), ("Avery", "N"), ("Riley", "N"),
    ("Morgan", "N"), ("Quinn", "N"), ("Taylor", "N"), ("Jamie", "N"), ("Kai", "N"), ("Reese", "N"),
    ("Søren", "M"), ("Łukasz", "M"), ("Björn", "M"), ("Aoife", "F"), ("Siobhán", "F"), ("Niamh", "F"),
    ("Catalina", "F"), ("Renée", "F"), ("François", "M"), ("Jürgen", "M"), ("Ana", "F"), ("Joy", "F"),
    ("Daniela", "F"), ("Patrick", "M"), ("Meera", "F"), ("Vikram", "M"), ("Chiara", "F"), ("Emil", "M"),
    ("Tanvi", "F"), ("Ibrahim", "M"), ("Zainab", "F"), ("Yusuf", "M"), ("Lina", "F"), ("Anton", "M"),
    ("Beatriz", "F"), ("Gareth", "M"), ("Holly", "F"), ("Declan", "M"), ("Harper", "F"), ("Ravi", "M"),
    ("Sunita", "F"), ("Jakob", "M"), ("Maren", "F"), ("Pablo", "M"), ("Thandiwe", "F"), ("Chen", "N"),
    ("Min-jun", "M"), ("Ji-woo", "F"), ("Hiroshi", "M"), ("Aiko", "F"), ("Bao", "N"), ("Linh", "F"),
    ("Nikolai", "M"), ("Irina", "F"), ("Tobias", "M"), ("Greta", "F"), ("Silas", "M"), ("Ruby", "F"),
    ("Ezra", "M"), ("Iris", "F"), ("Miles", "M"), ("Hazel", "F"), ("Leon", "M"), ("Esther", "F"),
    ("Marco", "M"), ("Giulia", "F"), ("Pedro", "M"), ("Marta", "F"), ("Kieran", "M"), ("Tessa", "F"),
    ("Dev", "M"), ("Anika", "F"), ("Colin", "M"), ("Erin", "F"), ("Rory", "N"), ("Sasha", "N"),
)

LAST_NAMES: tuple[str, ...] = (
    "Patel", "Okafor", "Nguyen", "García", "Schmidt", "Kowalski", "O'Brien", "Haddad", "Tanaka", "Silva",
    "Lindqvist", "Mensah", "Rossi", "Dubois", "Fischer", "Novak", "Kim", "Chen", "Reyes", "Andersen",
    "Murphy", "Ibrahim", "Sato", "Costa", "Müller", "Johansson", "Adeyemi", "Moreau", "Bianchi", "Ortiz",
    "Walsh", "Kapoor", "Yamamoto", "Santos", "Becker", "Nowak", "Park", "Huang", "Ramírez", "Larsen",
    "Kelly", "Rahman", "Ito", "Pereira", "Wagner", "Dvořák", "Lee", "Wang", "Flores", "Nielsen",
    "Byrne", "Hassan", "Suzuki", "Oliveira", "Hoffmann", "Wójcik", "Choi", "Liu", "Morales", "Berg",
    "Doyle", "Malik", "Watanabe", "Ferreira", "Schulz", "Horvat", "Jung", "Zhang", "Castillo", "Holm",
    "Brennan", "Chaudhry", "Nakamura", "Almeida", "Koch", "Kovač", "Han", "Li", "Vargas", "Dahl",
    "Whitfield", "Natarajan", "Abara", "Fontaine", "Lindgren", "Osei", "Marchetti", "Delgado", "Vos",
    "Fitzgerald", "Iyer", "Kruger", "Laurent", "Sørensen", "Asante", "Romano", "Navarro", "de Vries",
    "Gallagher", "Menon", "Brandt", "Girard", "Eriksson", "Boateng", "Greco", "Medina", "Bakker",
    "Harrington", "Raman", "Vogel", "Lambert", "Nyström", "Owusu", "Conti", "Herrera", "Jansen",
    "Sullivan", "Desai", "Keller", "Rousseau", "Magnusson", "Appiah", "Ricci", "Guerrero", "Visser",
    "Callahan", "Reddy", "Hartmann", "Fournier", "Åberg", "Danso", "Gallo", "Rojas", "Smit", "Prescott",
    "Bose", "Weber", "Mercier", "Olsen", "Achebe", "Ferrari", "Cruz", "Mulder", "Ashworth", "Ghosh",
    "Zimmermann", "Chevalier", "Halvorsen", "Nwosu", "Moretti", "Soto", "Peeters", "Blackwood", "Sharma",
    "Krause", "Leclerc", "Strand", "Eze", "Lombardi", "Mendoza", "Janssens", "Carrington", "Pillai",
    "Schäfer", "Bernard", "Lund", "Obi", "Fabbri", "Aguilar", "Maes", "Thornton", "Verma", "Lang",
    "Dupont", "Holmberg", "Adebayo", "Caruso", "Campos", "Claes", "Whitaker", "Rao", "Braun", "Marchand",
    "Sundberg", "Okonkwo", "Esposito", "Ruiz", "Wouters", "Ellison", "Nair", "Frank", "Picard", "Ek",
    "Quaye", "Russo", "Molina", "Hendriks", "Langley", "Mehta", "Roth", "Faure", "Wikström", "Agyeman",
    "Sanna", "Ríos", "Dekker", "Pemberton", "Joshi", "Kuhn", "Blanc", "Lindberg", "Amadi", "Serra",
    "Vega", "Meijer", "Ashford", "Khanna", "Lorenz", "Gauthier", "Bergström", "Chukwu", "Villa", "Ibarra",
    "Brouwer", "Hale", "Saxena", "Seidel", "Perrin", "Engström", "Oduya", "Galli", "Fuentes", "Kok",
    "Yilmaz", "Demir", "Kaya", "Şahin", "Popescu", "Ionescu", "Horváth", "Szabó", "Petrov", "Ivanova",
    "Mahlangu", "Dlamini", "Ndlovu", "Tran", "Pham", "Le", "Hoang", "Abe", "Mori", "Kuroda",
)

# Parts of fictional company names: "<prefix> <noun>", or "<prefix> <middle> <noun>" when we run out.
COMPANY_PREFIXES: tuple[str, ...] = (
    "Northwind", "Bluefin", "Cedarline", "Granitecrest", "Harborview", "Ironwood", "Juniper", "Keystone",
    "Lakeshore", "Meridian", "Nimbus", "Oakridge", "Pinecrest", "Quarry", "Redwood", "Silverline",
    "Tidewater", "Upland", "Vantage", "Westbrook", "Yellowstone", "Zephyr", "Amberfield", "Brightwater",
    "Copperleaf", "Driftwood", "Emberly", "Foxglove", "Goldcrest", "Hollowbrook", "Indigo", "Jadeport",
    "Kestrel", "Larkspur", "Moonstone", "Northgate", "Orchard", "Peregrine", "Quillon", "Riverbend",
    "Stonebridge", "Thistle", "Umberly", "Verity", "Willowmere", "Yarrow", "Zenith", "Alderpoint",
    "Bramblewood", "Clearwater", "Dovetail", "Eastfield", "Fernhill", "Glenmore", "Highmark", "Islewood",
    "Jetstream", "Kingsbury", "Lanternfly", "Maplecroft", "Newhaven", "Outpost", "Palisade", "Quayside",
    "Rosewater", "Saltmarsh", "Timberline", "Unity Bay", "Valewood", "Waypoint", "Yellowpine", "Zinnia",
    "Ashgrove", "Beacon Hill", "Coldspring", "Deepwell", "Evergreen Row", "Flintlock", "Greyhaven",
    "Heathrow Mill", "Inkwell", "Jasper", "Kilnworth", "Lodestar", "Millbrook", "Nettlefield", "Oxbow",
    "Pebblestone", "Quartzline", "Ravenscroft", "Sandpiper", "Tallgrass", "Underhill", "Vireo",
    "Whitecap", "Yewdale", "Zircon", "Arrowhead", "Bellwether", "Canopy", "Dunmore", "Eastwind",
    "Fairhaven", "Gullwing", "Halcyon", "Ivybridge", "Juno", "Kingfisher", "Longview", "Mistral",
    "Norcross", "Overland", "Pathfinder", "Quincy Row", "Rockport", "Seabright", "Trailhead", "Ultramar",
    "Vesper", "Windward", "Yorkfield", "Zenobia", "Anchorpoint", "Birchwood", "Crestline", "Daybreak",
    "Elmstead", "Firefly", "Goldleaf", "Horizon Ridge", "Ironbridge", "Jubilee", "Kittering", "Lumen",
    "Marlow", "Nightjar", "Olympus Row", "Pinnacle", "Quorum", "Riverstone", "Summit Lane", "Tamarack",
    "Uptown Works", "Verdant", "Wildflower", "Yellowtail", "Zephyrine", "Atlasridge", "Bluestem",
    "Cobalt", "Dawnlight", "Elderberry", "Fjordline", "Greenway", "Hearthstone", "Ironclad", "Jetty",
    "Keel", "Lighthouse", "Mosaic", "Northstar", "Opaline", "Prairie", "Quicksilver", "Ridgeway",
    "Starling", "Trillium", "Upstream", "Voyager", "Wrenfield", "Yonder", "Zeal", "Aspenwood",
    "Blackbird", "Cinder", "Delta Row", "Everline", "Forge", "Glasswing", "Hawthorne", "Inlet",
    "Juniperus", "Kite", "Lattice", "Magnolia", "Nova Ridge", "Obsidian", "Parkside", "Quill",
    "Rivulet", "Sagebrush", "Tessellate", "Umbra", "Vanguard Hill", "Westerly", "Yield", "Zest",
)

COMPANY_MIDDLES: tuple[str, ...] = (
    "Bay", "Peak", "Ridge", "Point", "Valley", "Stone", "Field", "River", "Harbor", "Grove", "Lake",
    "Summit", "Creek", "Bridge", "Hill", "Park", "Coast", "Mill", "Glen", "Cove",
)

# industry -> nouns that make a company name read like that industry.
INDUSTRY_NOUNS: dict[str, tuple[str, ...]] = {
    "Logistics": ("Logistics", "Freight", "Shipping", "Transport", "Distribution", "Cargo", "Fulfillment"),
    "Manufacturing": ("Manufacturing", "Industries", "Fabrication", "Components", "Machining", "Plastics", "Works"),
    "Software": ("Software", "Labs", "Systems", "Analytics", "Cloud", "Data", "Technologies"),
    "Financial Services": ("Capital", "Financial", "Lending", "Payments", "Insurance", "Wealth", "Credit"),
    "Healthcare": ("Health", "Medical", "Clinics", "Care", "Diagnostics", "Therapeutics", "Health Partners"),
    "Retail": ("Outfitters", "Goods", "Market", "Home", "Supply", "Brands", "Mercantile"),
    "Professional Services": ("Partners", "Consulting", "Advisory", "Group", "Associates", "Solutions"),
    "Education": ("Academy", "Learning", "College", "Schools", "Education"),
    "Nonprofit": ("Foundation", "Alliance", "Trust", "Initiative", "Fund"),
    "Media": ("Media", "Studios", "Publishing", "Broadcasting", "Press"),
    "Hospitality": ("Hotels", "Hospitality", "Resorts", "Inns", "Dining Group"),
    "Agriculture": ("Farms", "Agritech", "Growers", "Harvest", "Seed Co"),
    "Real Estate": ("Realty", "Properties", "Estates", "Property Group", "Land Co"),
}

ICP_INDUSTRIES: tuple[str, ...] = (
    "Logistics", "Manufacturing", "Software", "Financial Services", "Healthcare", "Retail", "Professional Services",
)
OTHER_INDUSTRIES: tuple[str, ...] = ("Education", "Nonprofit", "Media", "Hospitality", "Agriculture", "Real Estate")

# (city, country). The ICP lists countries; people.csv locations are "City, Country".
ICP_COUNTRIES: tuple[str, ...] = ("United States", "Canada", "United Kingdom", "Ireland", "Germany", "Netherlands")
CITIES: tuple[tuple[str, str], ...] = (
    ("Chicago", "United States"), ("Austin", "United States"), ("Denver", "United States"),
    ("Atlanta", "United States"), ("Seattle", "United States"), ("Boston", "United States"),
    ("Columbus", "United States"), ("Nashville", "United States"), ("Phoenix", "United States"),
    ("Minneapolis", "United States"), ("Raleigh", "United States"), ("Salt Lake City", "United States"),
    ("Pittsburgh", "United States"), ("San Diego", "United States"), ("Charlotte", "United States"),
    ("New York", "United States"), ("San Francisco", "United States"), ("Dallas", "United States"),
    ("Toronto", "Canada"), ("Vancouver", "Canada"), ("Montreal", "Canada"), ("Calgary", "Canada"),
    ("London", "United Kingdom"), ("Manchester", "United Kingdom"), ("Leeds", "United Kingdom"),
    ("Bristol", "United Kingdom"), ("Edinburgh", "United Kingdom"), ("Dublin", "Ireland"), ("Cork", "Ireland"),
    ("Berlin", "Germany"), ("Munich", "Germany"), ("Hamburg", "Germany"), ("Amsterdam", "Netherlands"),
    ("Rotterdam", "Netherlands"), ("Utrecht", "Netherlands"),
)
OTHER_CITIES: tuple[tuple[str, str], ...] = (
    ("Sydney", "Australia"), ("Melbourne", "Australia"), ("Bengaluru", "India"), ("Pune", "India"),
    ("São Paulo", "Brazil"), ("Singapore", "Singapore"), ("Paris", "France"), ("Lyon", "France"),
    ("Madrid", "Spain"), ("Barcelona", "Spain"), ("Mexico City", "Mexico"), ("Tokyo", "Japan"),
    ("Stockholm", "Sweden"), ("Cape Town", "South Africa"), ("Auckland", "New Zealand"),
)

FUNCTIONS: tuple[str, ...] = (
    "ops", "revops", "cs", "it", "sales", "marketing", "engineering", "finance", "product", "hr", "other",
)
FUNCTION_WEIGHTS: tuple[float, ...] = (0.14, 0.08, 0.12, 0.10, 0.14, 0.10, 0.12, 0.07, 0.06, 0.04, 0.03)
SENIORITIES: tuple[str, ...] = ("ic", "manager", "director", "vp", "cxo")
SENIORITY_WEIGHTS: tuple[float, ...] = (0.45, 0.28, 0.14, 0.09, 0.04)

# function -> seniority -> titles
TITLES: dict[str, dict[str, tuple[str, ...]]] = {
    "ops": {
        "ic": ("Operations Analyst", "Operations Specialist", "Logistics Coordinator"),
        "manager": ("Operations Manager", "Senior Operations Manager", "Fulfillment Operations Manager"),
        "director": ("Director of Operations", "Director, Business Operations"),
        "vp": ("VP Operations", "VP of Operations", "SVP Operations"),
        "cxo": ("Chief Operating Officer", "COO"),
    },
    "revops": {
        "ic": ("RevOps Analyst", "Sales Operations Analyst", "Revenue Operations Specialist"),
        "manager": ("Revenue Operations Manager", "Sales Ops Manager", "RevOps Manager"),
        "director": ("Director of Revenue Operations", "Head of RevOps"),
        "vp": ("VP Revenue Operations", "VP RevOps"),
        "cxo": ("Chief Revenue Operations Officer",),
    },
    "cs": {
        "ic": ("Customer Success Manager", "Support Specialist", "Customer Support Engineer"),
        "manager": ("Support Operations Manager", "Customer Success Team Lead", "Manager, Customer Support"),
        "director": ("Director of Customer Success", "Head of Support"),
        "vp": ("VP Customer Success", "VP Customer Experience"),
        "cxo": ("Chief Customer Officer",),
    },
    "it": {
        "ic": ("Systems Administrator", "IT Support Analyst", "Business Systems Analyst"),
        "manager": ("IT Manager", "Business Systems Manager", "Salesforce Administration Manager"),
        "director": ("Director of IT", "Director, Business Systems"),
        "vp": ("VP Information Technology", "VP IT"),
        "cxo": ("Chief Information Officer", "CIO"),
    },
    "sales": {
        "ic": ("Account Executive", "Sales Development Representative", "Account Manager"),
        "manager": ("Sales Manager", "Regional Sales Manager"),
        "director": ("Director of Sales", "Head of Sales"),
        "vp": ("VP Sales", "VP of Sales"),
        "cxo": ("Chief Revenue Officer", "CRO"),
    },
    "marketing": {
        "ic": ("Marketing Specialist", "Content Marketing Manager", "Demand Generation Specialist"),
        "manager": ("Marketing Manager", "Product Marketing Manager"),
        "director": ("Director of Marketing", "Head of Growth"),
        "vp": ("VP Marketing",),
        "cxo": ("Chief Marketing Officer", "CMO"),
    },
    "engineering": {
        "ic": ("Software Engineer", "Senior Software Engineer", "Data Engineer"),
        "manager": ("Engineering Manager",),
        "director": ("Director of Engineering",),
        "vp": ("VP Engineering",),
        "cxo": ("Chief Technology Officer", "CTO"),
    },
    "finance": {
        "ic": ("Financial Analyst", "Accountant", "FP&A Analyst"),
        "manager": ("Finance Manager", "Controller"),
        "director": ("Director of Finance", "Head of FP&A"),
        "vp": ("VP Finance",),
        "cxo": ("Chief Financial Officer", "CFO"),
    },
    "product": {
        "ic": ("Product Manager", "Product Designer", "Product Analyst"),
        "manager": ("Senior Product Manager", "Group Product Manager"),
        "director": ("Director of Product",),
        "vp": ("VP Product",),
        "cxo": ("Chief Product Officer",),
    },
    "hr": {
        "ic": ("People Partner", "Recruiter", "HR Generalist"),
        "manager": ("HR Manager", "Talent Acquisition Manager"),
        "director": ("Director of People",),
        "vp": ("VP People",),
        "cxo": ("Chief People Officer",),
    },
    "other": {
        "ic": ("Executive Assistant", "Office Manager", "Procurement Specialist"),
        "manager": ("Procurement Manager", "Legal Operations Manager"),
        "director": ("Director of Procurement", "General Counsel"),
        "vp": ("VP Strategy",),
        "cxo": ("Chief Executive Officer", "CEO"),
    },
}

# Customer contacts: persona -> (title, function, seniority). Titles are consistent with the true persona.
PERSONA_TITLES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "economic_buyer": (
        ("VP Operations", "ops", "vp"), ("Chief Operating Officer", "ops", "cxo"),
        ("Head of RevOps", "revops", "director"), ("VP Customer Success", "cs", "vp"),
        ("Director of Operations", "ops", "director"), ("VP Revenue Operations", "revops", "vp"),
        ("Head of Support", "cs", "director"), ("VP Customer Experience", "cs", "vp"),
    ),
    "power_user": (
        ("Operations Manager", "ops", "manager"), ("Sales Ops Manager", "revops", "manager"),
        ("Support Operations Lead", "cs", "manager"), ("Senior RevOps Analyst", "revops", "ic"),
        ("Workflow Automation Lead", "ops", "manager"), ("CS Operations Manager", "cs", "manager"),
        ("Revenue Operations Manager", "revops", "manager"), ("Senior Operations Analyst", "ops", "ic"),
    ),
    "product_user": (
        ("Customer Support Specialist", "cs", "ic"), ("Operations Analyst", "ops", "ic"),
        ("Account Coordinator", "ops", "ic"), ("Customer Success Manager", "cs", "ic"),
        ("Logistics Coordinator", "ops", "ic"), ("Support Agent", "cs", "ic"),
        ("Sales Operations Analyst", "revops", "ic"), ("Order Management Specialist", "ops", "ic"),
    ),
    "administrator": (
        ("IT Administrator", "it", "ic"), ("Systems Administrator", "it", "ic"),
        ("Salesforce Admin", "revops", "ic"), ("IT Manager", "it", "manager"),
        ("Business Systems Analyst", "it", "ic"), ("RevOps Systems Admin", "revops", "ic"),
        ("Business Systems Manager", "it", "manager"),
    ),
    "other": (
        ("Procurement Manager", "other", "manager"), ("Executive Assistant", "other", "ic"),
        ("Legal Counsel", "other", "manager"), ("Finance Analyst", "finance", "ic"),
        ("Marketing Coordinator", "marketing", "ic"),
    ),
}

_ASCII = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "AE", "ı": "i", "đ": "d"})


def slug(text: str, sep: str = "") -> str:
    """ASCII lowercase slug: 'Søren' -> 'soren', "O'Brien" -> 'obrien', 'de Vries' -> 'devries' (sep='')."""
    text = unicodedata.normalize("NFKD", text.translate(_ASCII))
    out = []
    for ch in text:
        if unicodedata.combining(ch):
            continue
        if ch.isascii() and ch.isalnum():
            out.append(ch.lower())
        elif ch in " -&" and sep:
            out.append(sep)
    s = "".join(out)
    while sep and sep * 2 in s:
        s = s.replace(sep * 2, sep)
    return s.strip(sep) if sep else s


FIRST_SLUGS: tuple[str, ...] = tuple(slug(f) for f, _ in FIRST_NAMES)
LAST_SLUGS: tuple[str, ...] = tuple(slug(n) for n in LAST_NAMES)
