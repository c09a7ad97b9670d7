package seed

import (
	"maps"
	"slices"

	"github.com/mentorship/mentorship/projections"
)

// The lists below are what profiles, messages and meeting logs are built
// from. Employers are described, never named, and phone numbers use the
// 555-01XX range reserved for fiction, so that no generated member points
// at a real company or person.

var firstNames = []string{
	"Olivia", "Liam", "Emma", "Noah", "Charlotte", "William", "Amelia", "Benjamin", "Sophie", "Lucas",
	"Chloé", "Félix", "Léa", "Gabriel", "Camille", "Étienne", "Maëlle", "Olivier", "Justine", "Mathieu",
	"Priya", "Arjun", "Harpreet", "Gurpreet", "Ananya", "Rohan", "Simran", "Vikram", "Neha", "Sanjay",
	"Wei", "Mei", "Jian", "Xiaoling", "Hao", "Lin", "Jia", "Yuki", "Min-jun", "Seo-yeon",
	"Maria", "Jose", "Angelica", "Mark", "Kristine", "Paolo", "Ahmed", "Fatima", "Omar", "Layla",
	"Yusuf", "Mariam", "Oksana", "Taras", "Olena", "Andriy", "Diego", "Valentina", "Carlos", "Lucía",
	"Chinedu", "Adaeze", "Kwame", "Abena", "Tariq", "Nadia", "Erik", "Ingrid", "Siobhan", "Declan",
	"Hannah", "Jacob", "Grace", "Owen", "Ava", "Ethan", "Zoe", "Nathan", "Maya", "Samuel",
}

var lastNames = []string{
	"Smith", "Brown", "Tremblay", "Martin", "Roy", "Wilson", "MacDonald", "Gagnon", "Johnson", "Taylor",
	"Côté", "Campbell", "Anderson", "Leblanc", "Lee", "Bouchard", "Gauthier", "Morin", "Thompson", "White",
	"Pelletier", "Bélanger", "Lévesque", "Fraser", "Stewart", "Murphy", "Kelly", "O'Brien", "McKenzie", "Sinclair",
	"Singh", "Patel", "Sharma", "Gill", "Sandhu", "Dhillon", "Grewal", "Kaur", "Gupta", "Iyer",
	"Wang", "Li", "Zhang", "Chen", "Liu", "Huang", "Wong", "Chan", "Nguyen", "Tran",
	"Kim", "Park", "Santos", "Reyes", "Cruz", "Garcia", "Hernandez", "Rodriguez", "Lopez", "Silva",
	"Ali", "Khan", "Hussein", "Haddad", "Mansour", "Kovalenko", "Shevchenko", "Bondarenko", "Okafor", "Mensah",
	"Nakamura", "Sato", "Johansson", "Larsen", "Rossi", "Ferreira", "Ahmadi", "Rahman", "Bergeron", "Cardinal",
}

// city is a real Canadian city with its province code and the area codes
// of its phone numbers.
type city struct {
	name     string
	province string
	area     []string
	weight   int // roughly the size of its engineering community
}

var cities = []city{
	{"Calgary", "AB", []string{"403", "587"}, 14},
	{"Edmonton", "AB", []string{"780", "587"}, 12},
	{"Red Deer", "AB", []string{"403"}, 2},
	{"Lethbridge", "AB", []string{"403"}, 1},
	{"Fort McMurray", "AB", []string{"780"}, 2},
	{"Grande Prairie", "AB", []string{"780"}, 1},
	{"Medicine Hat", "AB", []string{"403"}, 1},
	{"Vancouver", "BC", []string{"604", "778"}, 12},
	{"Surrey", "BC", []string{"604", "778"}, 4},
	{"Burnaby", "BC", []string{"604", "778"}, 4},
	{"Victoria", "BC", []string{"250", "778"}, 4},
	{"Kelowna", "BC", []string{"250"}, 2},
	{"Kamloops", "BC", []string{"250"}, 1},
	{"Prince George", "BC", []string{"250"}, 1},
	{"Nanaimo", "BC", []string{"250"}, 1},
	{"Winnipeg", "MB", []string{"204", "431"}, 6},
	{"Brandon", "MB", []string{"204"}, 1},
	{"Thompson", "MB", []string{"204"}, 1},
	{"Fredericton", "NB", []string{"506"}, 1},
	{"Moncton", "NB", []string{"506"}, 1},
	{"Saint John", "NB", []string{"506"}, 1},
	{"St. John's", "NL", []string{"709"}, 2},
	{"Corner Brook", "NL", []string{"709"}, 1},
	{"Halifax", "NS", []string{"902", "782"}, 4},
	{"Sydney", "NS", []string{"902"}, 1},
	{"Truro", "NS", []string{"902"}, 1},
	{"Yellowknife", "NT", []string{"867"}, 1},
	{"Iqaluit", "NU", []string{"867"}, 1},
	{"Toronto", "ON", []string{"416", "647", "437"}, 18},
	{"Ottawa", "ON", []string{"613", "343"}, 8},
	{"Mississauga", "ON", []string{"905", "289"}, 5},
	{"Hamilton", "ON", []string{"905", "289"}, 4},
	{"London", "ON", []string{"519", "226"}, 3},
	{"Kitchener", "ON", []string{"519", "226"}, 3},
	{"Waterloo", "ON", []string{"519", "226"}, 3},
	{"Windsor", "ON", []string{"519", "226"}, 2},
	{"Kingston", "ON", []string{"613", "343"}, 2},
	{"Sudbury", "ON", []string{"705", "249"}, 2},
	{"Thunder Bay", "ON", []string{"807"}, 1},
	{"Sault Ste. Marie", "ON", []string{"705"}, 1},
	{"Charlottetown", "PE", []string{"902"}, 1},
	{"Montréal", "QC", []string{"514", "438"}, 12},
	{"Québec", "QC", []string{"418", "581"}, 5},
	{"Gatineau", "QC", []string{"819", "873"}, 2},
	{"Sherbrooke", "QC", []string{"819", "873"}, 2},
	{"Trois-Rivières", "QC", []string{"819", "873"}, 1},
	{"Saguenay", "QC", []string{"418", "581"}, 1},
	{"Rouyn-Noranda", "QC", []string{"819"}, 1},
	{"Saskatoon", "SK", []string{"306", "639"}, 4},
	{"Regina", "SK", []string{"306", "639"}, 3},
	{"Prince Albert", "SK", []string{"306"}, 1},
	{"Whitehorse", "YT", []string{"867"}, 1},
}

// discipline describes how members of one discipline write about their
// work: their title, where they work, and the specialties their
// biographies and meeting logs mention.
type discipline struct {
	code        string
	weight      int
	geoscience  bool
	title       string
	industries  []string
	specialties []string
}

var disciplines = []discipline{
	{"CIVIL", 18, false, "civil engineer", []string{"CONSTRUCTION", "CONSULTING", "GOVERNMENT", "TRANSPORTATION", "UTILITIES"}, []string{
		"municipal water and wastewater infrastructure", "highway and interchange design", "stormwater management",
		"construction inspection and contract administration", "transportation planning", "infrastructure asset management",
		"drinking water treatment plant upgrades", "culvert and drainage design",
	}},
	{"STRUCTURAL", 8, false, "structural engineer", []string{"CONSULTING", "CONSTRUCTION", "GOVERNMENT"}, []string{
		"structural steel design to CSA S16", "reinforced concrete design", "bridge rehabilitation",
		"seismic retrofit of heritage buildings", "finite element analysis of complex structures", "mass timber structures",
		"steel connection design", "structural condition assessments",
	}},
	{"GEOTECHNICAL", 7, false, "geotechnical engineer", []string{"CONSULTING", "MINING", "CONSTRUCTION", "TRANSPORTATION"}, []string{
		"slope stability analysis", "tailings dam safety reviews", "foundation design for heavy industrial structures",
		"permafrost engineering", "pile load testing", "site investigation and borehole logging",
		"retaining wall design", "seismic liquefaction assessment",
	}},
	{"MECHANICAL", 12, false, "mechanical engineer", []string{"MANUFACTURING", "ENERGY", "CONSULTING", "OIL_AND_GAS"}, []string{
		"HVAC design for institutional buildings", "pressure vessel design to CSA B51", "rotating equipment reliability",
		"finite element analysis of machine components", "piping stress analysis", "building energy modelling",
		"heat exchanger design", "maintenance planning",
	}},
	{"ELECTRICAL", 10, false, "electrical engineer", []string{"UTILITIES", "ENERGY", "MANUFACTURING", "CONSULTING", "TECHNOLOGY"}, []string{
		"power system protection and control", "substation design", "arc flash studies",
		"grid interconnection of wind and solar projects", "industrial automation", "distribution system planning",
		"battery energy storage", "transmission line design",
	}},
	{"CHEMICAL", 6, false, "chemical engineer", []string{"OIL_AND_GAS", "MANUFACTURING", "ENERGY"}, []string{
		"process safety management", "refinery process optimization", "HAZOP facilitation",
		"water treatment processes", "bitumen upgrading", "hydrogen production", "process simulation",
	}},
	{"ENVIRONMENTAL", 6, false, "environmental engineer", []string{"CONSULTING", "GOVERNMENT", "MINING", "UTILITIES"}, []string{
		"hydrogeology and groundwater modelling", "contaminated site remediation", "environmental impact assessment",
		"water licence applications and permitting", "source water protection", "air quality permitting",
		"wetland reclamation",
	}},
	{"MINING", 5, false, "mining engineer", []string{"MINING", "CONSULTING"}, []string{
		"open pit mine planning", "underground ventilation design", "mineral processing",
		"mine closure planning", "tailings management", "ground control in underground mines", "drill and blast design",
	}},
	{"PETROLEUM", 5, false, "petroleum engineer", []string{"OIL_AND_GAS", "ENERGY"}, []string{
		"reservoir engineering", "well completions", "pipeline integrity management",
		"production optimization", "SAGD operations", "carbon capture and storage", "well abandonment and reclamation",
	}},
	{"GEOLOGICAL", 5, true, "geologist", []string{"MINING", "CONSULTING", "GOVERNMENT", "OIL_AND_GAS"}, []string{
		"mineral exploration programs", "structural geology mapping", "resource estimation under NI 43-101",
		"core logging and sampling", "geological hazard assessment", "hydrogeology", "geochemistry",
	}},
	{"GEOPHYSICAL", 3, true, "geophysicist", []string{"OIL_AND_GAS", "MINING", "CONSULTING"}, []string{
		"seismic interpretation", "seismic data processing", "gravity and magnetic surveys",
		"microseismic monitoring", "ground-penetrating radar surveys", "induced seismicity studies",
	}},
	{"SOFTWARE", 5, false, "software engineer", []string{"TECHNOLOGY", "CONSULTING"}, []string{
		"safety-critical embedded software", "SCADA systems", "data engineering for utilities",
		"machine learning for predictive maintenance", "software quality assurance", "digital twins of infrastructure",
	}},
	{"COMPUTER", 3, false, "computer engineer", []string{"TECHNOLOGY", "MANUFACTURING"}, []string{
		"embedded systems", "FPGA design", "network infrastructure", "industrial control systems cybersecurity",
	}},
	{"INDUSTRIAL", 3, false, "industrial engineer", []string{"MANUFACTURING", "CONSULTING"}, []string{
		"lean manufacturing", "quality management systems", "supply chain optimization", "ergonomics and workplace safety",
	}},
	{"MATERIALS", 2, false, "materials engineer", []string{"MANUFACTURING", "MINING"}, []string{
		"welding procedure qualification", "corrosion engineering", "failure analysis", "physical metallurgy",
	}},
	{"AEROSPACE", 2, false, "aerospace engineer", []string{"MANUFACTURING", "TRANSPORTATION"}, []string{
		"aircraft structures certification", "composite materials", "flight test engineering", "maintenance program development",
	}},
	{"BIOMEDICAL", 1, false, "biomedical engineer", []string{"TECHNOLOGY", "EDUCATION"}, []string{
		"medical device design", "regulatory submissions to Health Canada", "clinical engineering",
	}},
	{"AGRICULTURAL", 1, false, "agricultural engineer", []string{"GOVERNMENT", "OTHER"}, []string{
		"irrigation design", "grain handling facilities", "drainage engineering",
	}},
	{"OTHER", 1, false, "engineer", []string{"EDUCATION", "OTHER", "CONSULTING"}, []string{
		"engineering education", "technical sales", "regulatory policy", "project controls",
	}},
}

// employers describe, by industry, where a member works.
var employers = map[string][]string{
	"CONSULTING":     {"a mid-sized consulting firm", "a national engineering consultancy", "my own consulting practice", "a specialist consulting firm"},
	"CONSTRUCTION":   {"a general contractor", "a design-build firm", "a heavy civil contractor"},
	"GOVERNMENT":     {"the provincial ministry of transportation", "a municipal engineering department", "a federal regulator"},
	"ENERGY":         {"a hydroelectric utility", "a renewable energy developer", "a nuclear generating station"},
	"MINING":         {"a gold mine", "a potash producer", "an exploration company", "a copper mine"},
	"OIL_AND_GAS":    {"an oil sands operator", "a midstream pipeline company", "an exploration and production company"},
	"MANUFACTURING":  {"an automotive parts manufacturer", "a food processing plant", "a steel fabricator", "an equipment manufacturer"},
	"TECHNOLOGY":     {"a software company", "a start-up building sensors for infrastructure monitoring", "an industrial automation vendor"},
	"TRANSPORTATION": {"a transit agency", "a railway", "an airport authority"},
	"UTILITIES":      {"an electric distribution utility", "a regional water utility", "a natural gas utility"},
	"EDUCATION":      {"a polytechnic institute", "a university"},
	"OTHER":          {"a non-profit", "an engineering regulator", "a family farm business"},
}

// careerTopics are what members bring up beyond their specialty.
var careerTopics = []string{
	"project management", "permitting", "P.Eng. licensing", "the professional practice exam",
	"contract administration", "stakeholder engagement", "Indigenous community engagement",
	"budgets and schedules", "leading multidisciplinary teams", "technical writing",
	"quality assurance", "negotiating with contractors", "moving into management", "starting a consulting practice",
	"building a professional network", "work experience reporting for licensure",
}

var mentorExtras = []string{
	"I have led projects from permitting through construction and commissioning.",
	"I sit on the association's professional practice committee.",
	"I review work experience records for licensure applicants.",
	"I have supervised more than twenty engineers in training.",
	"I moved to Canada mid-career and had my credentials assessed, so I know that path well.",
	"Outside work I coach youth soccer and volunteer with Engineers Without Borders.",
	"I teach a night course on engineering economics at a local college.",
	"I have served as an expert reviewer on dam safety and pipeline integrity panels.",
	"I am a member of the Canadian Geotechnical Society and the Canadian Society for Civil Engineering.",
	"I have worked in remote northern sites and on large urban projects alike.",
}

var menteeExtras = []string{
	"I moved to Canada recently and am having my international experience assessed.",
	"I completed a co-op program and joined my employer full time after graduating.",
	"I am the only professional at my site, so I have no one nearby to learn from.",
	"I am considering a master's degree and would value advice on when to do it.",
	"I would like to lead my first project within the next two years.",
	"I am returning to engineering after a career break.",
	"I want to understand how consulting differs from working for an owner.",
}

var requestMessages = []string{
	"Hello, I read your profile and your experience in %s is exactly what I hope to grow into. Would you be my mentor?",
	"Hi, I am working toward my P.Eng. and your background in %s caught my eye. I would really value your guidance.",
	"Good day. I am an engineer in training working on %s and I would appreciate a mentor who has walked this path.",
	"Hello, could we talk about %s and my licensing journey? I think your perspective would help me a lot.",
	"Hi, I am looking for help with %s and with planning the next few years of my career.",
}

var declineMessages = []string{
	"Thank you for reaching out. I cannot give this the time it deserves right now; I hope you find a great match.",
	"I appreciate the request, but my experience is not a good fit for what you are looking for.",
	"I am travelling for a long field season and would not be available to meet regularly.",
	"Thank you, I am honoured to be asked, but I have to step back from mentoring for personal reasons.",
}

var staffNotes = map[string][]string{
	"GRACEFUL_EXIT":   {"Partners agreed the match was not a good fit; Graceful Exit email sent.", "Mentee asked to end; expectations did not line up. Graceful Exit handled."},
	"GOALS_CONCLUDED": {"Mentee passed the professional practice exam and both agreed the goals are met.", "Both partners report the mentoring goals were reached early."},
	"MOVED":           {"Mentor relocated overseas for a project and cannot continue.", "Mentee moved to another province and joined its association."},
	"OTHER":           {"Partner on extended leave; the match is closed and may be requested again later.", "Closed at the partners' request after a change of employer."},
}

var nudgeNotes = []string{
	"Called the mentor, who had missed the email; they will answer this week.",
	"Left a voicemail and sent a reminder email to the mentor.",
	"Reached the mentor by phone; they asked for a few more days.",
}

var sessionNotes = []string{
	"Reviewed my work experience record for the P.Eng. application and how to describe my %s work against the competencies.",
	"Talked through a %s problem from my current project and how to document the assumptions for the engineer of record.",
	"Discussed preparing for the professional practice exam: ethics cases, the code of conduct and study habits.",
	"Went over a draft technical memo on %s; got feedback on structure and on stating limitations clearly.",
	"Talked about moving into project management: budgets, schedules and leading a small team.",
	"Discussed permitting timelines and stakeholder engagement on a project involving %s.",
	"Walked through a site visit I did this week and what to look for next time.",
	"Talked about work-life balance during field season and how to plan for it.",
	"Practised a presentation to a client on %s and how to handle hard questions.",
	"Discussed networking at the association's branch events and which technical societies to join.",
}

var resources = []struct {
	title, description, url, audience string
}{
	{"Preparing for the Professional Practice Exam", "A study plan, practice questions on law and ethics, and tips from recent candidates.", "https://mentorship.example.org/resources/ppe", "MENTEES"},
	{"Mentor guide: the first three meetings", "How to agree on goals, meeting rhythm and confidentiality early in a match.", "https://mentorship.example.org/resources/mentor-guide", "MENTORS"},
	{"Logging sessions for continuing professional development", "Which mentoring activities count toward CPD hours and how to record them.", "https://mentorship.example.org/resources/cpd", "BOTH"},
	{"Writing a strong work experience record", "Examples of competency statements for engineering and geoscience licensure.", "https://mentorship.example.org/resources/experience-record", "MENTEES"},
}

var meetingFrequencies = []string{"WEEKLY", "BIWEEKLY", "MONTHLY", "MONTHLY", "AS_NEEDED"}

var otherLanguages = []string{"pa", "hi", "zh", "tl", "ar", "es", "uk", "pt", "it", "de"}

// SearchTerms returns, for each discipline code, single words that the
// biographies of that discipline's members contain, as the biography
// search splits them. A load generator draws realistic searches from them.
func SearchTerms() map[string][]string {
	out := make(map[string][]string, len(disciplines))
	for _, d := range disciplines {
		seen := map[string]bool{}
		for _, s := range d.specialties {
			for _, w := range projections.Words(s) {
				if len(w) > 3 && !stopWords[w] {
					seen[w] = true
				}
			}
		}
		out[d.code] = slices.Sorted(maps.Keys(seen))
	}
	return out
}

// stopWords are words too common to make a useful search term.
var stopWords = map[string]bool{
	"with": true, "from": true, "into": true, "their": true, "under": true, "complex": true,
}
