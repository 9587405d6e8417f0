"""The parameters of the simulated company: who works there, what it runs, and the causal rules.

Every number a later analysis should be able to recover lives here, and docs/demo-world.md
states the same rules in prose; change one, change the other.
No Django imports: the simulation that uses these is plain numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- Size at scale 1 --------------------------------------------------------------------

MONTHS = 18
B2B_ACCOUNTS = 1_500
HOUSEHOLD_ACCOUNTS = 500
CONTACTS = 20_000
# Touchpoints of people who never identified themselves, as a share of identified ones.
ANONYMOUS_TOUCH_SHARE = 0.08

COMPANY_NAME = "Northwind Revenue Co."
# Reserved top-level domain (RFC 2606): no demo address can reach a real mailbox.
STAFF_DOMAIN = "accord-demo.example"
WEBSITE = "https://www.northwind.example"

# --- Vocabulary indexes (the simulation works on small integers) ------------------------

SEGMENTS = ("b2b", "b2c")
B2B, B2C = 0, 1

# Who a contact is, which decides most of what happens to them.
PROFESSIONAL, STUDENT, CONSUMER = 0, 1, 2

REGIONS = ("na", "emea", "apac", "latam")
REGION_SHARE = (0.42, 0.31, 0.15, 0.12)
# Fixed UTC offsets in hours: enough to put form fills and calls in plausible local hours.
REGION_UTC_OFFSET = (-5, 1, 8, -3)
REGION_COUNTRIES = {
    "na": (("US", 0.85), ("CA", 0.15)),
    "emea": (("GB", 0.3), ("DE", 0.25), ("FR", 0.15), ("NL", 0.12), ("SE", 0.08), ("ES", 0.1)),
    "apac": (("AU", 0.4), ("SG", 0.2), ("IN", 0.4)),
    "latam": (("BR", 0.5), ("MX", 0.35), ("AR", 0.15)),
}
# Faker locales whose names fill each country.
COUNTRY_LOCALE = {
    "US": "en_US", "CA": "en_US", "GB": "en_GB", "DE": "de_DE", "FR": "fr_FR", "NL": "nl_NL",
    "SE": "sv_SE", "ES": "es_ES", "AU": "en_AU", "SG": "en_GB", "IN": "en_IN", "BR": "pt_BR",
    "MX": "es_MX", "AR": "es_ES",
}
COUNTRY_DIALLING = {
    "US": "1", "CA": "1", "GB": "44", "DE": "49", "FR": "33", "NL": "31", "SE": "46", "ES": "34",
    "AU": "61", "SG": "65", "IN": "91", "BR": "55", "MX": "52", "AR": "54",
}

# --- Fit: industry, company size and seniority multiply the conversion rate -------------

INDUSTRIES = (
    # code, share of B2B accounts, conversion multiplier
    ("software", 0.20, 1.6),
    ("financial", 0.12, 1.5),
    ("professional", 0.12, 1.2),
    ("healthcare", 0.10, 1.1),
    ("manufacturing", 0.12, 1.0),
    ("logistics", 0.06, 1.0),
    ("retail", 0.10, 0.9),
    ("hospitality", 0.05, 0.7),
    ("public", 0.04, 0.7),
    ("education", 0.06, 0.6),
    ("other", 0.03, 0.8),
)
SIZE_BANDS = (
    # code, share of B2B accounts, conversion multiplier, contacts weight, median deal (USD),
    # median sales cycle (days)
    ("1-10", 0.15, 0.5, 1.0, 2_500, 18),
    ("11-50", 0.25, 0.9, 2.0, 7_000, 30),
    ("51-200", 0.25, 1.4, 4.0, 15_000, 42),
    ("201-1000", 0.18, 1.5, 7.0, 28_000, 55),
    ("1001-5000", 0.10, 1.1, 10.0, 45_000, 75),
    ("5000+", 0.07, 0.8, 14.0, 70_000, 95),
)
SENIORITIES = (
    # code, share of professionals, conversion multiplier
    ("executive", 0.08, 1.8),
    ("vp", 0.07, 1.6),
    ("director", 0.15, 1.5),
    ("manager", 0.30, 1.1),
    ("individual", 0.35, 0.6),
    ("", 0.05, 0.5),
)
STUDENT_FIT = 0.08
CONSUMER_INTENT_FIT = 1.0
CONSUMER_NO_INTENT_FIT = 0.1
BAD_DATA_FIT = 0.3

TITLES = {
    "executive": ("CEO", "Founder", "Chief Revenue Officer", "CFO", "COO", "CTO"),
    "vp": ("VP Sales", "VP Marketing", "VP Operations", "VP Engineering", "VP Finance"),
    "director": ("Director of Marketing", "Sales Director", "Director of IT", "Head of Growth",
                 "Director of Finance", "Head of Revenue Operations"),
    "manager": ("Marketing Manager", "Sales Manager", "IT Manager", "Operations Manager",
                "Product Manager", "Demand Generation Manager"),
    "individual": ("Account Executive", "Marketing Specialist", "Software Engineer", "Analyst",
                   "Coordinator", "Sales Development Rep"),
    "": ("",),
    "student": ("Student", "MBA candidate", "Intern", "Graduate student"),
    "consumer": ("",),
}

# --- Channels: lead quality and cost per lead -------------------------------------------

@dataclass(frozen=True)
class ChannelRule:
    """How leads from one channel behave: quality multipliers and what they cost."""

    mql: float  # multiplier on the lead→MQL rate
    sales: float  # multiplier on the SAL→SQL and win rates
    cpl_b2b: float  # target cost per lead in USD for B2B campaigns
    cpl_b2c: float  # and for consumer campaigns
    bad_data: float  # share of leads with junk contact data
    student: float  # share of B2B-campaign leads who are students or job seekers
    consumer_intent: float  # share of consumer leads who mean to buy


CHANNEL_RULES = {
    "paid_search": ChannelRule(1.2, 1.15, 95, 22, 0.04, 0.04, 0.45),
    "paid_social": ChannelRule(0.8, 0.6, 140, 28, 0.12, 0.12, 0.20),
    "display": ChannelRule(0.5, 0.5, 180, 35, 0.10, 0.06, 0.15),
    "email": ChannelRule(1.0, 1.0, 6, 3, 0.02, 0.02, 0.30),
    "webinar": ChannelRule(1.3, 1.2, 70, 30, 0.03, 0.15, 0.30),
    "event": ChannelRule(1.3, 1.3, 260, 60, 0.06, 0.05, 0.35),
    "content_seo": ChannelRule(0.8, 0.8, 30, 10, 0.05, 0.20, 0.20),
    "referral": ChannelRule(2.0, 1.8, 18, 8, 0.01, 0.01, 0.60),
    "partner": ChannelRule(1.6, 1.5, 25, 12, 0.02, 0.02, 0.50),
    "outbound": ChannelRule(0.9, 1.0, 45, 20, 0.05, 0.0, 0.20),
    "direct_offline": ChannelRule(1.2, 1.0, 15, 12, 0.04, 0.0, 0.55),
    "organic_social": ChannelRule(0.7, 0.7, 8, 4, 0.06, 0.15, 0.20),
    "direct": ChannelRule(1.1, 1.1, 0, 0, 0.03, 0.05, 0.35),
}
# Paid channels book a cost row per day; the others one per month (CostEntry's convention).
DAILY_COST_CHANNELS = frozenset({"paid_search", "paid_social", "display", "event"})
# Click-through and click-to-lead rates, to give ad spend plausible impressions and clicks.
AD_FUNNEL = {"paid_search": (0.035, 0.045), "paid_social": (0.009, 0.02), "display": (0.0015, 0.01)}


@dataclass(frozen=True)
class CampaignSpec:
    """One of the company's campaigns; dates are resolved against the simulated timeline."""

    name: str
    channel: str
    kind: str
    segment: str  # "b2b", "b2c", or "" for both
    lead_weight: float  # relative share of new leads while running
    touch_weight: float  # relative share of later touches (emails are opened, ads retarget)
    owner: str  # username of the marketer who runs it
    # When it runs: "always", ("from_month", n) = from n months into the timeline,
    # ("yearly", month, day, days) = the latest such window, ("webinars",) = monthly sessions.
    schedule: tuple
    description: str = ""


CAMPAIGNS = (
    CampaignSpec("Search – Brand (always on)", "paid_search", "ads", "", 9, 2, "noah.patel",
                 ("always",), "Brand and category keywords on Google and Bing."),
    CampaignSpec("Search – Competitor terms", "paid_search", "ads", "b2b", 4, 1, "noah.patel",
                 ("from_month", 3), "Conquesting on competitor brand terms."),
    CampaignSpec("Search – Consumer products", "paid_search", "ads", "b2c", 8, 2, "noah.patel",
                 ("always",), "Shopping and product-term ads for the consumer range."),
    CampaignSpec("LinkedIn – Revenue leaders", "paid_social", "ads", "b2b", 7, 2, "noah.patel",
                 ("always",), "Sponsored content to sales and marketing leaders."),
    CampaignSpec("Instagram – Spring collection", "paid_social", "ads", "b2c", 12, 3, "noah.patel",
                 ("yearly", 3, 1, 92), "Spring range launch on Instagram and Facebook."),
    CampaignSpec("Facebook – Holiday gifting", "paid_social", "ads", "b2c", 16, 3, "noah.patel",
                 ("yearly", 11, 1, 58), "Gift-guide ads for the holiday season."),
    CampaignSpec("Display retargeting", "display", "ads", "", 4, 6, "noah.patel",
                 ("always",), "Retargeting site visitors across the display network."),
    CampaignSpec("Monthly newsletter", "email", "newsletter", "", 3, 18, "marketing",
                 ("always",), "Product news and stories, first Tuesday of the month."),
    CampaignSpec("Onboarding nurture sequence", "email", "nurture", "", 1, 14, "marketing",
                 ("from_month", 2), "Five emails over three weeks for new leads."),
    CampaignSpec("Webinar series: Pipeline that closes", "webinar", "webinar", "b2b", 5, 4,
                 "chloe.dubois", ("webinars",), "Monthly live webinar with a customer guest."),
    CampaignSpec("Revenue Summit (spring)", "event", "trade_show", "b2b", 40, 2, "chloe.dubois",
                 ("yearly", 5, 12, 5), "Booth and two talks at the spring industry summit."),
    CampaignSpec("Autumn Expo", "event", "trade_show", "b2b", 36, 2, "chloe.dubois",
                 ("yearly", 10, 6, 4), "Exhibition stand at the autumn trade expo."),
    CampaignSpec("Blog & SEO", "content_seo", "content", "", 7, 5, "chloe.dubois",
                 ("always",), "Evergreen articles and the resource hub."),
    CampaignSpec("State of Revenue report", "content_seo", "content", "b2b", 5, 2, "chloe.dubois",
                 ("from_month", 6), "Gated annual benchmark report."),
    CampaignSpec("Customer referral programme", "referral", "referral_program", "", 4, 1,
                 "marketing", ("always",), "A thank-you credit for every referred customer."),
    CampaignSpec("Agency partner programme", "partner", "partner_program", "b2b", 3, 1,
                 "marketing", ("from_month", 1), "Agencies that resell and implement."),
    CampaignSpec("Outbound – Mid-market software", "outbound", "outbound", "b2b", 4, 2,
                 "noah.patel", ("from_month", 4), "SDR sequences into 51–1,000 employee software firms."),
    CampaignSpec("In-store demo days", "direct_offline", "in_store", "b2c", 6, 1, "chloe.dubois",
                 ("always",), "Weekend demos at partner retail stores."),
    CampaignSpec("Holiday in-store promotion", "direct_offline", "in_store", "b2c", 18, 1,
                 "chloe.dubois", ("yearly", 11, 20, 40), "Bundles and gift wrapping in stores."),
    CampaignSpec("Organic social", "organic_social", "other", "", 4, 4, "chloe.dubois",
                 ("always",), "Posts on LinkedIn, Instagram and YouTube."),
)
# Share of later touches that come in with no campaign (typed-in visits, bookmarks).
DIRECT_TOUCH_WEIGHT = 20.0

# --- Seasonality, growth and good and bad weeks -----------------------------------------

# Lead volume by calendar month (January first), per segment.
SEASON = {
    "b2b": (1.05, 1.10, 1.15, 1.05, 1.00, 0.95, 0.80, 0.70, 1.10, 1.15, 1.05, 0.75),
    "b2c": (0.85, 0.80, 0.95, 1.00, 1.00, 0.95, 0.90, 0.90, 1.00, 1.05, 1.35, 1.50),
}
# Lead volume by weekday (Monday first), per segment.
WEEKDAY = {
    "b2b": (1.10, 1.15, 1.15, 1.10, 0.95, 0.30, 0.25),
    "b2c": (0.95, 0.95, 0.95, 1.00, 1.05, 1.15, 1.00),
}
# Lead volume grows linearly from GROWTH[0] at the start to GROWTH[1] at as-of.
GROWTH = (0.75, 1.25)
# Week-level random effects: log-normal sigmas.
MARKETING_WEEK_VOLUME_SIGMA = 0.20
MARKETING_WEEK_QUALITY_SIGMA = 0.25
SALES_WEEK_SIGMA = 0.15  # on the SAL→SQL rate
REP_WEEK_SPEED_SIGMA = 0.45  # on each rep's response time

# --- The funnel -------------------------------------------------------------------------
# Conversion steps use p = 1 - exp(-base × multipliers): multipliers act proportionally
# while the probability stays small and saturate smoothly instead of passing 1.

MQL_BASE = 0.26
SQL_BASE = 0.25
# Consumers who pass marketing's bar are readier to buy than companies are.
SQL_SEGMENT = {"b2b": 1.0, "b2c": 1.6}
OPPORTUNITY_BASE = 1.1
WIN_BASE = {"b2b": 0.30, "b2c": 0.9}
# Exponents soften fit at the later steps, where the lead has already been screened.
MQL_FIT_EXPONENT = 0.6
SQL_FIT_EXPONENT = 0.7
WIN_FIT_EXPONENT = 0.4
# Share of MQLs raised the moment they arrive (demo requests, quote requests).
INSTANT_MQL_SHARE = 0.3
MQL_DELAY_MEDIAN_HOURS = 40

# Speed to lead: hours from assignment to the first call or email → multiplier on SAL→SQL
# (and its square root on winning the deal).
SPEED_MULTIPLIER = ((1.0, 4.0), (4.0, 2.4), (24.0, 1.5), (float("inf"), 1.0))
# Reps work 07:00–20:00 Monday to Friday in their team's time zone; a lead that arrives
# outside those hours waits for the next working morning.
WORKDAY_HOURS = (7, 20)
RESPONSE_SIGMA = 0.9
# An MQL no rep gave a verdict on within this many days goes back to marketing's nurture, as
# marketing ops recycles stale leads: the queue holds live leads, not 18 months of neglect.
MQL_RECYCLE_DAYS = 30
# Rejection reasons a rep sees on the handoff packet itself (a student or competitor address):
# the lead is rejected when the rep next works, with no call first.
ON_SIGHT_REASONS = ("student", "competitor")

SALES_TEAMS = (
    # name, region, segment, timezone, UTC offset, regions routed to it
    ("Sales – Americas", "na", "", "America/New_York", -5, ("na", "latam")),
    ("Sales – EMEA/APAC", "emea", "", "Europe/Amsterdam", 1, ("emea", "apac")),
)


@dataclass(frozen=True)
class Person:
    """A member of staff."""

    username: str
    first_name: str
    last_name: str
    role: str
    team: str
    # Reps only: median hours to first touch, share of leads never followed up, win-rate skill.
    response_hours: float = 0.0
    neglect: float = 0.0
    skill: float = 1.0


# The five demo logins come first; their usernames are fixed because the CLI prints them.
PEOPLE = (
    Person("marketing", "Maya", "Lindqvist", "marketing", "Marketing"),
    Person("rep", "Jordan", "Reyes", "sales_rep", "Sales – Americas", 1.5, 0.03, 1.0),
    Person("manager", "Priya", "Natarajan", "sales_manager", "Sales – Americas"),
    Person("revops", "Sam", "Okafor", "revops_admin", "Revenue Operations"),
    Person("exec", "Elena", "Novak", "executive", "Leadership"),
    Person("noah.patel", "Noah", "Patel", "marketing", "Marketing"),
    Person("chloe.dubois", "Chloé", "Dubois", "marketing", "Marketing"),
    Person("avery.chen", "Avery", "Chen", "sales_rep", "Sales – Americas", 0.35, 0.01, 1.1),
    Person("marcus.bell", "Marcus", "Bell", "sales_rep", "Sales – Americas", 6.0, 0.05, 0.9),
    Person("lucia.ferreira", "Lúcia", "Ferreira", "sales_rep", "Sales – Americas", 2.5, 0.03, 1.05),
    Person("tom.walsh", "Tom", "Walsh", "sales_rep", "Sales – Americas", 14.0, 0.08, 0.85),
    Person("lars.vogel", "Lars", "Vogel", "sales_manager", "Sales – EMEA/APAC"),
    Person("sofia.lindgren", "Sofia", "Lindgren", "sales_rep", "Sales – EMEA/APAC", 0.5, 0.01, 1.1),
    Person("ravi.iyer", "Ravi", "Iyer", "sales_rep", "Sales – EMEA/APAC", 1.0, 0.02, 1.0),
    Person("hannah.becker", "Hannah", "Becker", "sales_rep", "Sales – EMEA/APAC", 3.5, 0.03, 1.0),
    Person("kenji.watanabe", "Kenji", "Watanabe", "sales_rep", "Sales – EMEA/APAC", 9.0, 0.05, 0.95),
    Person("olivia.brennan", "Olivia", "Brennan", "sales_rep", "Sales – EMEA/APAC", 20.0, 0.08, 0.85),
)
LOGIN_USERNAMES = ("marketing", "rep", "manager", "revops", "exec")

OTHER_TEAMS = (
    # name, function, manager username
    ("Marketing", "marketing", "marketing"),
    ("Revenue Operations", "revops", "revops"),
    ("Leadership", "leadership", "exec"),
)

# --- Sales' verdict on a handed-over lead -----------------------------------------------

# Probability that a lead with the cause is rejected, the reason recorded, and whether the
# lead is disqualified for good or sent back to nurture.
REJECTION_RULES = {
    "duplicate": (1.0, "duplicate", "disqualified"),
    "competitor": (1.0, "competitor", "disqualified"),
    "student": (0.9, "student", "disqualified"),
    "bad_data": (0.85, "bad_data", "disqualified"),
    "no_intent": (0.7, "no_need", "nurture"),
    "individual": (0.35, "not_decision_maker", "nurture"),
    "tiny": (0.3, "no_budget", "nurture"),
}
DUPLICATE_SHARE = 0.02
COMPETITOR_SHARE = 0.01
# Leads with no particular cause: rejected anyway now and then.
BACKGROUND_REJECTIONS = (("bad_timing", 0.06, "nurture"), ("no_need", 0.03, "nurture"),
                         ("other", 0.02, "nurture"))

FEEDBACK_NOTES = {
    "good_fit": ("Real project, budget this half. Booked discovery.",
                 "Strong fit: evaluating tools now, wants a demo with the team.",
                 "Replied the same day, clear pain around pipeline reporting.",
                 "Referred by a customer; timeline this quarter."),
    "duplicate": ("Same person as an existing contact (personal email).",
                  "Already in the system under another address."),
    "competitor": ("Works at a competitor; looks like research.",
                   "Competitor employee downloading our material."),
    "student": ("Student writing a thesis, no buying intent.",
                "Job seeker, asked about open roles.",
                "MBA student researching the market."),
    "bad_data": ("Phone number is fake and the email bounced.",
                 "Name field is gibberish, cannot reach anyone.",
                 "Form filled with test data."),
    "no_need": ("Just browsing, no purchase planned.", "Happy with what they have."),
    "not_decision_maker": ("Individual contributor; asked for an intro to their manager.",
                           "No authority; will loop in their director later."),
    "no_budget": ("Tiny company, no budget this year.", "Likes it but cannot afford it now."),
    "bad_timing": ("Interested, but not before next quarter.", "Mid-reorganisation, call back in three months."),
    "other": ("Out of our territory's coverage.", "Asked not to be called."),
}

LOSS_REASONS = (("price", 0.28), ("competitor", 0.25), ("no_decision", 0.22), ("timing", 0.12),
                ("features", 0.09), ("other", 0.04))
WON_REASONS = ("Best fit for their process", "Speed of implementation", "Referenced by a peer",
               "Won on reporting and forecasting", "Price and support", "Executive sponsor pushed it")
PRODUCTS_B2B = ("Team plan", "Business plan", "Enterprise rollout", "Platform licence")
PRODUCTS_B2C = ("Starter kit", "Home bundle", "Gift set", "Accessory pack")
B2C_MEDIAN_ORDER = 180.0
B2C_MEDIAN_CYCLE_DAYS = 3

PIPELINES = (
    # name, is_default, segment, stages (name, probability, outcome)
    ("New business", True, "b2b", (("Discovery", "0.100", "open"), ("Demo", "0.250", "open"),
                                   ("Proposal", "0.500", "open"), ("Negotiation", "0.750", "open"),
                                   ("Closed won", "1.000", "won"), ("Closed lost", "0.000", "lost"))),
    ("Consumer orders", False, "b2c", (("Interested", "0.300", "open"), ("Checkout", "0.700", "open"),
                                       ("Purchased", "1.000", "won"), ("Abandoned", "0.000", "lost"))),
)

CONTENT_ASSETS = (
    # title, kind, stage, campaign name or "", owner
    ("How Acme cut lead response time to 20 minutes", "case_study", "sql", "", "chloe.dubois"),
    ("State of Revenue 2025 benchmark report", "whitepaper", "lead", "State of Revenue report", "chloe.dubois"),
    ("Northwind platform overview deck", "deck", "sal", "", "marketing"),
    ("Battle card: legacy CRMs", "battlecard", "opportunity", "", "marketing"),
    ("Battle card: spreadsheets and point tools", "battlecard", "opportunity", "", "marketing"),
    ("Webinar recording: Pipeline that closes", "video", "mql", "Webinar series: Pipeline that closes", "chloe.dubois"),
    ("Discovery call playbook", "playbook", "sal", "", "manager"),
    ("Pricing sheet 2025", "pricing", "opportunity", "", "revops"),
    ("Consumer range gift guide", "blog", "lead", "Facebook – Holiday gifting", "noah.patel"),
    ("Five signs your funnel leaks", "blog", "lead", "Blog & SEO", "chloe.dubois"),
    ("ROI calculator walkthrough", "video", "sql", "", "noah.patel"),
    ("Customer story: Globex scales to 40 reps", "case_study", "opportunity", "Customer referral programme", "chloe.dubois"),
)
