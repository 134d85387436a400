/* The PGP word list (Juola and Zimmermann, PGPfone 1995): a byte at an even
 * position is read from the two-syllable list, one at an odd position from
 * the three-syllable list, so a swapped or dropped word is heard. The tables
 * are the published ones, in their published order (alphabetical, except
 * that the standard odd list has "applicant" before "Apollo" at 0x09/0x0a). */
#include "base/words.h"

#include <string.h>

/* clang-format off */
static const char *const even_words[256] = {
	/* 00 */ "aardvark", "absurd", "accrue", "acme",
	/* 04 */ "adrift", "adult", "afflict", "ahead",
	/* 08 */ "aimless", "Algol", "allow", "alone",
	/* 0c */ "ammo", "ancient", "apple", "artist",
	/* 10 */ "assume", "Athens", "atlas", "Aztec",
	/* 14 */ "baboon", "backfield", "backward", "banjo",
	/* 18 */ "beaming", "bedlamp", "beehive", "beeswax",
	/* 1c */ "befriend", "Belfast", "berserk", "billiard",
	/* 20 */ "bison", "blackjack", "blockade", "blowtorch",
	/* 24 */ "bluebird", "bombast", "bookshelf", "brackish",
	/* 28 */ "breadline", "breakup", "brickyard", "briefcase",
	/* 2c */ "Burbank", "button", "buzzard", "cement",
	/* 30 */ "chairlift", "chatter", "checkup", "chisel",
	/* 34 */ "choking", "chopper", "Christmas", "clamshell",
	/* 38 */ "classic", "classroom", "cleanup", "clockwork",
	/* 3c */ "cobra", "commence", "concert", "cowbell",
	/* 40 */ "crackdown", "cranky", "crowfoot", "crucial",
	/* 44 */ "crumpled", "crusade", "cubic", "dashboard",
	/* 48 */ "deadbolt", "deckhand", "dogsled", "dragnet",
	/* 4c */ "drainage", "dreadful", "drifter", "dropper",
	/* 50 */ "drumbeat", "drunken", "Dupont", "dwelling",
	/* 54 */ "eating", "edict", "egghead", "eightball",
	/* 58 */ "endorse", "endow", "enlist", "erase",
	/* 5c */ "escape", "exceed", "eyeglass", "eyetooth",
	/* 60 */ "facial", "fallout", "flagpole", "flatfoot",
	/* 64 */ "flytrap", "fracture", "framework", "freedom",
	/* 68 */ "frighten", "gazelle", "Geiger", "glitter",
	/* 6c */ "glucose", "goggles", "goldfish", "gremlin",
	/* 70 */ "guidance", "hamlet", "highchair", "hockey",
	/* 74 */ "indoors", "indulge", "inverse", "involve",
	/* 78 */ "island", "jawbone", "keyboard", "kickoff",
	/* 7c */ "kiwi", "klaxon", "locale", "lockup",
	/* 80 */ "merit", "minnow", "miser", "Mohawk",
	/* 84 */ "mural", "music", "necklace", "Neptune",
	/* 88 */ "newborn", "nightbird", "Oakland", "obtuse",
	/* 8c */ "offload", "optic", "orca", "payday",
	/* 90 */ "peachy", "pheasant", "physique", "playhouse",
	/* 94 */ "Pluto", "preclude", "prefer", "preshrunk",
	/* 98 */ "printer", "prowler", "pupil", "puppy",
	/* 9c */ "python", "quadrant", "quiver", "quota",
	/* a0 */ "ragtime", "ratchet", "rebirth", "reform",
	/* a4 */ "regain", "reindeer", "rematch", "repay",
	/* a8 */ "retouch", "revenge", "reward", "rhythm",
	/* ac */ "ribcage", "ringbolt", "robust", "rocker",
	/* b0 */ "ruffled", "sailboat", "sawdust", "scallion",
	/* b4 */ "scenic", "scorecard", "Scotland", "seabird",
	/* b8 */ "select", "sentence", "shadow", "shamrock",
	/* bc */ "showgirl", "skullcap", "skydive", "slingshot",
	/* c0 */ "slowdown", "snapline", "snapshot", "snowcap",
	/* c4 */ "snowslide", "solo", "southward", "soybean",
	/* c8 */ "spaniel", "spearhead", "spellbind", "spheroid",
	/* cc */ "spigot", "spindle", "spyglass", "stagehand",
	/* d0 */ "stagnate", "stairway", "standard", "stapler",
	/* d4 */ "steamship", "sterling", "stockman", "stopwatch",
	/* d8 */ "stormy", "sugar", "surmount", "suspense",
	/* dc */ "sweatband", "swelter", "tactics", "talon",
	/* e0 */ "tapeworm", "tempest", "tiger", "tissue",
	/* e4 */ "tonic", "topmost", "tracker", "transit",
	/* e8 */ "trauma", "treadmill", "Trojan", "trouble",
	/* ec */ "tumor", "tunnel", "tycoon", "uncut",
	/* f0 */ "unearth", "unwind", "uproot", "upset",
	/* f4 */ "upshot", "vapor", "village", "virus",
	/* f8 */ "Vulcan", "waffle", "wallet", "watchword",
	/* fc */ "wayside", "willow", "woodlark", "Zulu",
};

static const char *const odd_words[256] = {
	/* 00 */ "adroitness", "adviser", "aftermath", "aggregate",
	/* 04 */ "alkali", "almighty", "amulet", "amusement",
	/* 08 */ "antenna", "applicant", "Apollo", "armistice",
	/* 0c */ "article", "asteroid", "Atlantic", "atmosphere",
	/* 10 */ "autopsy", "Babylon", "backwater", "barbecue",
	/* 14 */ "belowground", "bifocals", "bodyguard", "bookseller",
	/* 18 */ "borderline", "bottomless", "Bradbury", "bravado",
	/* 1c */ "Brazilian", "breakaway", "Burlington", "businessman",
	/* 20 */ "butterfat", "Camelot", "candidate", "cannonball",
	/* 24 */ "Capricorn", "caravan", "caretaker", "celebrate",
	/* 28 */ "cellulose", "certify", "chambermaid", "Cherokee",
	/* 2c */ "Chicago", "clergyman", "coherence", "combustion",
	/* 30 */ "commando", "company", "component", "concurrent",
	/* 34 */ "confidence", "conformist", "congregate", "consensus",
	/* 38 */ "consulting", "corporate", "corrosion", "councilman",
	/* 3c */ "crossover", "crucifix", "cumbersome", "customer",
	/* 40 */ "Dakota", "decadence", "December", "decimal",
	/* 44 */ "designing", "detector", "detergent", "determine",
	/* 48 */ "dictator", "dinosaur", "direction", "disable",
	/* 4c */ "disbelief", "disruptive", "distortion", "document",
	/* 50 */ "embezzle", "enchanting", "enrollment", "enterprise",
	/* 54 */ "equation", "equipment", "escapade", "Eskimo",
	/* 58 */ "everyday", "examine", "existence", "exodus",
	/* 5c */ "fascinate", "filament", "finicky", "forever",
	/* 60 */ "fortitude", "frequency", "gadgetry", "Galveston",
	/* 64 */ "getaway", "glossary", "gossamer", "graduate",
	/* 68 */ "gravity", "guitarist", "hamburger", "Hamilton",
	/* 6c */ "handiwork", "hazardous", "headwaters", "hemisphere",
	/* 70 */ "hesitate", "hideaway", "holiness", "hurricane",
	/* 74 */ "hydraulic", "impartial", "impetus", "inception",
	/* 78 */ "indigo", "inertia", "infancy", "inferno",
	/* 7c */ "informant", "insincere", "insurgent", "integrate",
	/* 80 */ "intention", "inventive", "Istanbul", "Jamaica",
	/* 84 */ "Jupiter", "leprosy", "letterhead", "liberty",
	/* 88 */ "maritime", "matchmaker", "maverick", "Medusa",
	/* 8c */ "megaton", "microscope", "microwave", "midsummer",
	/* 90 */ "millionaire", "miracle", "misnomer", "molasses",
	/* 94 */ "molecule", "Montana", "monument", "mosquito",
	/* 98 */ "narrative", "nebula", "newsletter", "Norwegian",
	/* 9c */ "October", "Ohio", "onlooker", "opulent",
	/* a0 */ "Orlando", "outfielder", "Pacific", "pandemic",
	/* a4 */ "Pandora", "paperweight", "paragon", "paragraph",
	/* a8 */ "paramount", "passenger", "pedigree", "Pegasus",
	/* ac */ "penetrate", "perceptive", "performance", "pharmacy",
	/* b0 */ "phonetic", "photograph", "pioneer", "pocketful",
	/* b4 */ "politeness", "positive", "potato", "processor",
	/* b8 */ "provincial", "proximate", "puberty", "publisher",
	/* bc */ "pyramid", "quantity", "racketeer", "rebellion",
	/* c0 */ "recipe", "recover", "repellent", "replica",
	/* c4 */ "reproduce", "resistor", "responsive", "retraction",
	/* c8 */ "retrieval", "retrospect", "revenue", "revival",
	/* cc */ "revolver", "sandalwood", "sardonic", "Saturday",
	/* d0 */ "savagery", "scavenger", "sensation", "sociable",
	/* d4 */ "souvenir", "specialist", "speculate", "stethoscope",
	/* d8 */ "stupendous", "supportive", "surrender", "suspicious",
	/* dc */ "sympathy", "tambourine", "telephone", "therapist",
	/* e0 */ "tobacco", "tolerance", "tomorrow", "torpedo",
	/* e4 */ "tradition", "travesty", "trombonist", "truncated",
	/* e8 */ "typewriter", "ultimate", "undaunted", "underfoot",
	/* ec */ "unicorn", "unify", "universe", "unravel",
	/* f0 */ "upcoming", "vacancy", "vagabond", "vertigo",
	/* f4 */ "Virginia", "visitor", "vocalist", "voyager",
	/* f8 */ "warranty", "Waterloo", "whimsical", "Wichita",
	/* fc */ "Wilmington", "Wyoming", "yesteryear", "Yucatan",
};
/* clang-format on */

void ca_words(const unsigned char *digest, size_t len, char *out, size_t outlen)
{
	size_t used = 0, i, n;
	const char *w;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < len; i++) {
		w = (i % 2 == 0) ? even_words[digest[i]] : odd_words[digest[i]];
		n = strlen(w);
		/* Whole words only: stop before one that does not fit. */
		if (used + (i > 0) + n + 1 > outlen)
			break;
		if (i > 0)
			out[used++] = ' ';
		memcpy(out + used, w, n);
		used += n;
		out[used] = '\0';
	}
}
