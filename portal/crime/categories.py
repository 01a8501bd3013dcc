"""police.uk crime categories: the names the CSV files carry, and the API's slugs we store."""

# Every name police.uk has used since December 2010 (6, then 11, then 14 categories).
SLUGS = {
    "Anti-social behaviour": "anti-social-behaviour",
    "Bicycle theft": "bicycle-theft",
    "Burglary": "burglary",
    "Criminal damage and arson": "criminal-damage-arson",
    "Drugs": "drugs",
    "Other crime": "other-crime",
    "Other theft": "other-theft",
    "Possession of weapons": "possession-of-weapons",
    "Public disorder and weapons": "public-disorder-weapons",
    "Public order": "public-order",
    "Robbery": "robbery",
    "Shoplifting": "shoplifting",
    "Theft from the person": "theft-from-the-person",
    "Vehicle crime": "vehicle-crime",
    "Violence and sexual offences": "violent-crime",
    "Violent crime": "violent-crime",
}
LABELS = {slug: name for name, slug in SLUGS.items()}
LABELS["violent-crime"] = "Violence and sexual offences"
ASB = "anti-social-behaviour"
