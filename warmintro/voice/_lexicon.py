"""Small word lists the voice engine shares: common English words (a capitalised one at the start of a
sentence is not a name), greeting and sign-off words, hedges that fit a note. Written by hand, no data."""

from __future__ import annotations


def wordset(text: str) -> frozenset[str]:
    """The whitespace-separated words of `text`."""
    return frozenset(text.split())


COMMON_WORDS: frozenset[str] = wordset("""
a about above absolutely across actually add added after afternoon again against ago agree ahead all allow
almost alone along already also although always am amazing among an and another any anybody anyone anything
anyway anyways apologies appreciate appreciated are aren't around as ask asked asking at attached available
aware away awesome back bad basically be because become been before behind being believe below best better
between beyond big both brief briefly bring but by call called can can't cannot care certainly chat check
cheers clear clearly close come comes coming congrats congratulations could couldn't course curious currently
day days dear definitely did didn't different do does doesn't doing don't done down during each early easy
either else email emails end enjoy enough especially even evening ever every everybody everyone everything
exactly example excellent except excited far fast feel few fine finally first following for forward found
free friday from full fun further furthermore generally get gets getting give glad go goes going gone good
got great greetings guess had happy hard has hasn't have haven't having he hello help helpful her here hey
hi high him his honestly hope hopefully how however i i'd i'll i'm i've if important in indeed instead
interested interesting into intro introduction is isn't it it's its just keep kind kindly know last later
least less let let's like likely little long look looking lot lots love made make many may maybe me mean
meanwhile meet meeting mentioned might mine monday more moreover morning most much must my myself name near
nearly need needs never new next nice no nobody none nor not note nothing now of off often oh ok okay old on
once one only open or other others otherwise our ours out over own per perhaps personally please pleased
plus possible possibly pretty probably quick quickly quite rather re reach really recently regarding regards
related right same saturday saw say see seems seen send sent several shall she should shouldn't since
sincerely small so some somebody someone something sometimes soon sorry speak still subject such sunday super
sure take talk team tell thank thanks that that's the their them then there there's therefore these they
they're thing things think this those though thought through thursday thx to today together too tomorrow
totally truly try tuesday two under unfortunately unless until up upon us use used useful using usually
very via want wanted was wasn't way we we'd we'll we're we've wednesday well were weren't what what's when where
whether which while who whoever whole why will wish with within without won't wonder wondering work worked
working would wouldn't wow warmly warm yes yesterday yet you you'd you'll you're you've your yours yourself
""")

# Words that open a greeting line ("Hi Sam,", "Good morning all:").
GREETING_WORDS: tuple[str, ...] = (
    "good morning", "good afternoon", "good evening", "good day", "hi there", "hello there", "hey there",
    "dear", "hi", "hello", "hey", "hiya", "heya", "howdy", "greetings", "morning", "afternoon", "yo", "hallo",
    "bonjour", "hola", "ciao",
)  # fmt: skip
FORMAL_GREETINGS = frozenset({"dear", "good morning", "good afternoon", "good evening", "good day", "greetings"})
CASUAL_GREETINGS = frozenset({"hey", "hiya", "heya", "yo", "howdy", "hey there"})

# Addressees that are a group rather than a person ("Dear all,", "Hi folks").
GROUP_ADDRESSEES = frozenset({
    "all", "everyone", "everybody", "folks", "team", "guys", "list", "y'all", "you all", "people", "friends",
    "colleagues", "gang", "both", "each", "useRs", "users", "developers", "devs", "experts", "listers",
})  # fmt: skip

VALEDICTIONS: tuple[str, ...] = (
    "many thanks in advance", "thanks in advance", "thank you in advance", "thanks ahead", "with best regards",
    "with kind regards", "with regards", "best regards", "kind regards", "warm regards", "warmest regards",
    "many thanks", "thanks again", "thanks a lot", "thanks so much", "thank you",
    "all the best", "all best", "best wishes", "yours sincerely", "yours truly", "sincerely", "talk soon",
    "take care", "warmly", "warm wishes", "best of luck", "good luck", "hope this helps", "regards", "thanks", "thx", "ta", "cheers",
    "best", "bests", "yours", "ciao", "hth", "rgds", "br", "kr", "greetings", "love", "cordialement",
    "saludos", "merci", "ttyl", "talk later", "later", "cya", "laters",
)  # fmt: skip
FORMAL_VALEDICTIONS = frozenset({
    "with best regards", "with kind regards", "with regards", "best regards", "kind regards", "warm regards",
    "warmest regards", "yours sincerely", "yours truly", "sincerely", "regards", "rgds", "br", "kr",
    "cordialement", "yours",
})  # fmt: skip
CASUAL_VALEDICTIONS = frozenset({"cheers", "thx", "ta", "later", "hth", "love", "ciao", "talk soon", "take care",
                                 "ttyl", "talk later", "cya", "laters"})

# Discourse markers a writer may open a sentence with; the offline composer uses the writer's own one.
HEDGES: tuple[str, ...] = (
    "to be honest", "in my experience", "as far as i know", "if i remember correctly", "for what it's worth",
    "i believe", "i think", "i guess", "i suspect", "i feel", "in my opinion", "personally", "honestly",
    "frankly", "fwiw", "imho", "imo", "afaik", "tbh", "iirc",
)  # fmt: skip

INFORMAL_TOKENS = frozenset({
    "lol", "haha", "hehe", "btw", "gonna", "wanna", "gotta", "yeah", "yep", "yup", "nope", "ok", "okay", "cool",
    "awesome", "thx", "np", "tbh", "imo", "fwiw", "kinda", "sorta", "hey", "folks", "stuff", "super", "totally",
    "dunno", "pls", "plz", "ya", "u", "ur", "omg", "wow",
})  # fmt: skip
FORMAL_TOKENS = frozenset({
    "please", "kindly", "regarding", "furthermore", "moreover", "however", "therefore", "sincerely",
    "appreciate", "appreciated", "accordingly", "hereby", "whereas", "shall", "would", "respectfully",
    "consequently", "nevertheless", "additionally", "pleased", "grateful", "dear",
})  # fmt: skip

MONTHS_AND_DAYS = wordset("""
january february march april may june july august september october november december jan feb mar apr jun
jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu
thur thurs fri sat sun
""")

# All-caps business words that are not a company ("the QBR", "our CRM").
GENERIC_ACRONYMS = wordset("""
ok okay fyi btw fwiw imho imo afaik tbh iirc hth asap eod eow ps pps am pm utc gmt crm erp qbr nps roi kpi
kpis sla slas ceo cfo coo cto cio cmo cro cpo vp svp evp it hr ops revops saas api apis ui ux faq pdf csv
q1 q2 q3 q4 h1 h2 yoy mom eta n/a tl;dr
""")
