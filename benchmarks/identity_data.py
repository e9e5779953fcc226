"""Word lists for the synthetic identities of ``generate_identities.py``.

Written from general knowledge of common names, nicknames, company names and
legal forms, not from leadflow's own tables: some nicknames and legal forms
here are ones leadflow knows, others are not, as in real data. Lists are
ordered roughly from common to rare; the generator weights them that way.
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(",") if word.strip())


FIRST_NAMES = _words(
    """James, Mary, Michael, Jennifer, Robert, Linda, John, Elizabeth, David, Patricia,
    William, Susan, Richard, Jessica, Joseph, Sarah, Thomas, Karen, Christopher, Margaret,
    Charles, Lisa, Daniel, Nancy, Matthew, Sandra, Anthony, Ashley, Mark, Emily, Steven,
    Kimberly, Andrew, Donna, Paul, Michelle, Joshua, Carol, Kenneth, Amanda, Kevin, Melissa,
    Brian, Deborah, Timothy, Stephanie, Ronald, Rebecca, Jason, Laura, George, Helen,
    Edward, Sharon, Jeffrey, Cynthia, Ryan, Kathleen, Jacob, Amy, Nicholas, Anna, Gary,
    Shirley, Eric, Angela, Jonathan, Emma, Stephen, Brenda, Larry, Pamela, Justin, Nicole,
    Scott, Samantha, Brandon, Katherine, Benjamin, Christine, Samuel, Debra, Gregory, Rachel,
    Alexander, Carolyn, Patrick, Janet, Frank, Maria, Raymond, Olivia, Jack, Heather,
    Dennis, Catherine, Jerry, Diane, Tyler, Julie, Aaron, Victoria, Henry, Joyce, Douglas,
    Lauren, Peter, Kelly, Adam, Christina, Nathan, Judith, Zachary, Alexandra, Walter,
    Madeline, Harold, Abigail, Noah, Sophia, Liam, Chloe, Ethan, Grace, Lucas, Zoe, Hugo,
    Léa, Louis, Camille, Pierre, Inès, François, Amélie, Lukas, Lena, Jonas, Julia, Felix,
    Johannes, Jürgen, Katharina, Wolfgang, Sabine, Josef, Ursula, Søren, Björn, Lars,
    Ingrid, Sven, Astrid, Łukasz, Agnieszka, Piotr, Ewa, José, Sofía, Francisco, Lucía,
    Carlos, Guadalupe, Diego, Valentina, Mateo, Giuseppe, Giulia, Marco, Chiara, Priya,
    Arjun, Ananya, Rahul, Deepika, Wei, Mei, Jun, Yuki, Hiroshi, Haruka, Kenji, Min-jun,
    Seo-yeon, Aisha, Mohammed, Fatima, Omar, Layla, Ahmed, Chidi, Ngozi, Kwame, Ama,
    Oluwaseun, Thandiwe, Olga, Dmitri, Ekaterina, Anastasia, Zoë, Renée, Siobhán, Aoife,
    Eoin, Mary Ann, Jean-Luc, Anne-Marie"""
)

LAST_NAMES = _words(
    """Smith, Johnson, Williams, Brown, Jones, Garcia, Miller, Davis, Rodriguez, Martinez,
    Hernandez, Lopez, Gonzalez, Wilson, Anderson, Thomas, Taylor, Moore, Jackson, Martin,
    Lee, Perez, Thompson, White, Harris, Sanchez, Clark, Ramirez, Lewis, Robinson, Walker,
    Young, Allen, King, Wright, Scott, Torres, Nguyen, Hill, Flores, Green, Adams, Nelson,
    Baker, Hall, Rivera, Campbell, Mitchell, Carter, Roberts, Gomez, Phillips, Evans, Turner,
    Diaz, Parker, Cruz, Edwards, Collins, Reyes, Stewart, Morris, Morales, Murphy, Cook,
    Rogers, Gutierrez, Ortiz, Morgan, Cooper, Peterson, Bailey, Reed, Kelly, Howard, Ramos,
    Kim, Cox, Ward, Richardson, Watson, Brooks, Chavez, Wood, James, Bennett, Gray, Mendoza,
    Ruiz, Hughes, Price, Alvarez, Castillo, Sanders, Patel, Myers, Long, Ross, Foster,
    Jimenez, Davies, Walsh, O'Brien, O'Connor, McDonald, MacLeod, Fitzgerald, Byrne,
    Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, Hoffmann,
    Schäfer, Koch, Bauer, Richter, Klein, Wolf, Bernard, Dubois, Durand, Leroy, Moreau,
    Laurent, Lefèvre, Michel, Girard, Fontaine, de Jong, Jansen, de Vries, van den Berg,
    van Dijk, Bakker, Visser, Smit, Chen, Wang, Li, Zhang, Liu, Yang, Huang, Zhao, Wu, Zhou,
    Singh, Kumar, Sharma, Gupta, Reddy, Iyer, Tanaka, Sato, Suzuki, Takahashi, Watanabe,
    Park, Choi, Kowalski, Nowak, Wiśniewski, Novak, Silva, Santos, Oliveira, Pereira,
    Rossi, Russo, Ferrari, Esposito, Bianchi, Andersson, Johansson, Karlsson, Nilsson,
    Hansen, Nielsen, Jensen, Larsen, Okafor, Mensah, Adeyemi, Haddad, Cohen, Levi, Ivanova,
    Popescu, Horváth, Nagy, Papadopoulos, Yilmaz, Kaya, Smith-Jones, García-López,
    Da Silva, Al-Sayed, St. John, Ng, Wu-Chen"""
)

NICKNAMES: dict[str, tuple[str, ...]] = {
    "James": ("Jim", "Jimmy", "Jamie"),
    "Robert": ("Bob", "Rob", "Bobby", "Robbie"),
    "John": ("Johnny", "Jack"),
    "Michael": ("Mike", "Mick", "Mikey"),
    "William": ("Bill", "Will", "Billy", "Liam"),
    "David": ("Dave", "Davey"),
    "Richard": ("Rick", "Rich", "Dick", "Richie"),
    "Joseph": ("Joe", "Joey"),
    "Thomas": ("Tom", "Tommy"),
    "Christopher": ("Chris", "Topher"),
    "Charles": ("Charlie", "Chuck"),
    "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt",),
    "Anthony": ("Tony", "Ant"),
    "Steven": ("Steve",),
    "Stephen": ("Steve", "Stevie"),
    "Andrew": ("Andy", "Drew"),
    "Joshua": ("Josh",),
    "Kenneth": ("Ken", "Kenny"),
    "Timothy": ("Tim", "Timmy"),
    "Ronald": ("Ron", "Ronnie"),
    "Edward": ("Ed", "Eddie", "Ted", "Ned"),
    "Jeffrey": ("Jeff",),
    "Jacob": ("Jake",),
    "Nicholas": ("Nick", "Nicky"),
    "Jonathan": ("Jon", "Jonny"),
    "Benjamin": ("Ben", "Benny"),
    "Samuel": ("Sam", "Sammy"),
    "Gregory": ("Greg",),
    "Alexander": ("Alex", "Sasha", "Xander"),
    "Patrick": ("Pat", "Paddy"),
    "Frank": ("Frankie",),
    "Raymond": ("Ray",),
    "Henry": ("Hank", "Harry"),
    "Harold": ("Harry", "Hal"),
    "Douglas": ("Doug",),
    "Peter": ("Pete",),
    "Nathan": ("Nate",),
    "Zachary": ("Zach", "Zack"),
    "Walter": ("Walt",),
    "Larry": ("Lawrence",),
    "Gary": ("Gaz",),
    "Johannes": ("Hans", "Jo"),
    "Josef": ("Sepp", "Joschi"),
    "Wolfgang": ("Wolf",),
    "Francisco": ("Paco", "Pancho"),
    "José": ("Pepe",),
    "Giuseppe": ("Beppe", "Pino"),
    "Dmitri": ("Dima",),
    "Mary": ("Molly", "Mae"),
    "Jennifer": ("Jen", "Jenny"),
    "Elizabeth": ("Liz", "Beth", "Betty", "Lizzie", "Eliza"),
    "Patricia": ("Pat", "Patty", "Trish"),
    "Susan": ("Sue", "Susie"),
    "Jessica": ("Jess", "Jessie"),
    "Margaret": ("Maggie", "Peggy", "Meg"),
    "Sandra": ("Sandy",),
    "Kimberly": ("Kim",),
    "Deborah": ("Deb", "Debbie"),
    "Stephanie": ("Steph",),
    "Rebecca": ("Becky", "Becca"),
    "Cynthia": ("Cindy",),
    "Kathleen": ("Kathy", "Kath"),
    "Pamela": ("Pam",),
    "Nicole": ("Nikki",),
    "Samantha": ("Sam", "Sammy"),
    "Katherine": ("Kate", "Katie", "Kat"),
    "Christine": ("Chris", "Tina"),
    "Debra": ("Deb", "Debbie"),
    "Catherine": ("Cathy", "Cat"),
    "Victoria": ("Vicky", "Tori"),
    "Judith": ("Judy",),
    "Christina": ("Tina", "Chrissy"),
    "Alexandra": ("Alex", "Lexi", "Sasha"),
    "Madeline": ("Maddie",),
    "Abigail": ("Abby",),
    "Amanda": ("Mandy",),
    "Katharina": ("Kathi", "Kati"),
    "Ekaterina": ("Katya",),
    "Anastasia": ("Nastya", "Stacy"),
    "Guadalupe": ("Lupe",),
}
"""Formal first name -> nicknames people use for it (whether or not leadflow knows them)."""

TITLES = _words(
    """CEO, CTO, CFO, COO, Founder, Co-Founder, VP Sales, VP Marketing, VP Engineering,
    Head of Operations, Head of IT, Director of Procurement, Marketing Manager,
    Sales Manager, Operations Manager, IT Manager, Product Manager, Project Manager,
    Purchasing Manager, Office Manager, Engineer, Software Engineer, Analyst, Consultant,
    Account Executive, Buyer, Owner, Managing Director, Geschäftsführer, Directeur Général"""
)

COMPANY_PREFIXES = _words(
    """Blue, North, Silver, Green, Red, Bright, Clear, Summit, Pioneer, Apex, Vertex,
    Harbor, Iron, Golden, Quantum, Stellar, Rapid, Cedar, Oak, Maple, Pine, River, Lake,
    Stone, Crystal, Eagle, Falcon, Lion, Atlas, Nova, Orbit, Pixel, Data, Cloud, Bio, Medi,
    Terra, Aqua, Solar, Astra, Vita, Prime, True, Smart, Next, First, United, Global,
    Pacific, Atlantic, Western, Eastern, Metro, Urban, Alpine, Coastal, Sun, Star, Peak,
    Arrow"""
)
COMPANY_CORES = _words(
    """works, labs, soft, tech, logic, point, field, bridge, gate, wave, line, path,
    stream, forge, craft, wise, ware, scape, mark, base, core, hub, link, view, way"""
)
COMPANY_NOUNS = _words(
    """Valley, Ridge, Creek, Bay, Rock, Tree, Leaf, Road, Tower, Castle, Harbour, Anchor,
    Compass, Beacon, Horizon, Meadow, Canyon, Island, Mountain, Forest, Garden, Bridge,
    Harvest, Signal, Circuit, Engine, Vector, Matrix, Spark, Pulse, Thread, Needle, Arch,
    Lantern, Mill, Quarry, Orchard, Falls, Point, Crown"""
)
INDUSTRIES = _words(
    """Logistics, Analytics, Consulting, Systems, Solutions, Health, Foods, Energy,
    Capital, Partners, Media, Robotics, Software, Networks, Pharma, Retail, Manufacturing,
    Design, Engineering, Insurance, Construction, Labs, Security, Studios, Education,
    Travel, Marine, Telecom, Realty, Biotech"""
)

COUNTRIES: dict[str, int] = {"US": 55, "CA": 7, "GB": 12, "DE": 9, "FR": 6, "NL": 4, "AU": 7}
"""Where people and companies are, with weights."""

COUNTRY_TLDS: dict[str, tuple[str, ...]] = {
    "US": ("com", "com", "com", "io", "net", "co"),
    "CA": ("ca", "com", "ca"),
    "GB": ("co.uk", "co.uk", "com", "uk"),
    "DE": ("de", "de", "com"),
    "FR": ("fr", "fr", "com"),
    "NL": ("nl", "nl", "com"),
    "AU": ("com.au", "com.au", "com"),
}

LEGAL_FORMS: dict[str, tuple[tuple[int, tuple[str, ...]], ...]] = {
    "US": (
        (40, ("Inc", "Inc.", ", Inc.", "Incorporated")),
        (30, ("LLC", "L.L.C.", ", LLC")),
        (15, ("Corp", "Corp.", "Corporation")),
        (6, ("Co", "Co.", "Company")),
        (3, ("PLLC",)),
        (2, ("P.C.", "PC")),
    ),
    "CA": (
        (45, ("Inc", "Inc.", "Incorporated")),
        (30, ("Ltd", "Ltd.", "Limited")),
        (15, ("Corp", "Corp.", "Corporation")),
        (5, ("Ltée",)),
    ),
    "GB": ((75, ("Ltd", "Ltd.", "Limited")), (12, ("PLC", "plc")), (8, ("LLP",))),
    "DE": ((70, ("GmbH",)), (12, ("AG",)), (10, ("GmbH & Co. KG",)), (3, ("SE",)), (3, ("e.K.",))),
    "FR": ((35, ("SAS", "S.A.S.")), (30, ("SARL", "S.A.R.L.")), (25, ("SA", "S.A.")), (3, ("SE",))),
    "NL": ((80, ("B.V.", "BV")), (15, ("N.V.", "NV"))),
    "AU": ((85, ("Pty Ltd", "Pty. Ltd.", "Pty Limited")), (10, ("Ltd", "Limited"))),
}  # fmt: skip
"""Per country: (weight, spellings of one legal form)."""

FREE_MAIL: dict[str, tuple[str, ...]] = {
    "US": ("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com", "hotmail.com",
           "icloud.com", "aol.com", "comcast.net"),
    "CA": ("gmail.com", "gmail.com", "yahoo.ca", "hotmail.com", "outlook.com", "shaw.ca"),
    "GB": ("gmail.com", "gmail.com", "yahoo.co.uk", "hotmail.co.uk", "outlook.com",
           "btinternet.com", "sky.com"),
    "DE": ("gmail.com", "gmx.de", "web.de", "t-online.de", "outlook.de", "yahoo.de"),
    "FR": ("gmail.com", "orange.fr", "free.fr", "laposte.net", "hotmail.fr", "sfr.fr"),
    "NL": ("gmail.com", "hotmail.nl", "outlook.com", "ziggo.nl", "kpnmail.nl"),
    "AU": ("gmail.com", "bigpond.com", "outlook.com", "yahoo.com.au", "optusnet.com.au"),
}  # fmt: skip
"""Free-mail providers people use, per country (repeats are weights)."""

ROLE_LOCAL_PARTS = ("info", "info", "info", "sales", "contact", "office", "hello", "enquiries")
"""Shared addresses of a company's function, used by several of its people."""

KEYBOARD_NEIGHBOURS: dict[str, str] = {
    "a": "qsz", "b": "vgn", "c": "xdv", "d": "sfe", "e": "wrd", "f": "dgr", "g": "fht",
    "h": "gjy", "i": "uok", "j": "hku", "k": "jli", "l": "ko", "m": "nj", "n": "bmh",
    "o": "ipl", "p": "ol", "q": "wa", "r": "etf", "s": "adw", "t": "ryg", "u": "yij",
    "v": "cbf", "w": "qes", "x": "zcs", "y": "tuh", "z": "xa",
}  # fmt: skip
"""Keys next to each other on a QWERTY keyboard: the usual substitution typos."""
