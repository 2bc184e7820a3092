//! The plain data the PREMIS writer takes: objects (a file, or an intellectual entity),
//! events with the agents they link to, agents and rights statements. Callers map their own
//! records onto these; nothing here knows XML.

/// The role of the software that ran an event (written without a vocabulary reference).
pub const EXECUTING_PROGRAM: &str = "executing program";

/// What PREMIS records about one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectFacts {
    /// The local identifier (`objectIdentifierType` `local`).
    pub identifier: String,
    /// The file's path in the collection (`originalName`).
    pub original_name: String,
    /// Size in bytes.
    pub size: u64,
    /// `(algorithm, lower-case hex)` pairs, the algorithm named as PREMIS and METS spell it
    /// (`SHA-256`, `SHA-512`, `MD5`, …); one `fixity` each, in this order.
    pub digests: Vec<(String, String)>,
    /// PRONOM's format name, e.g. `JPEG File Interchange Format`.
    pub format_name: Option<String>,
    /// PRONOM's format version, e.g. `1.01` (written only with a name).
    pub format_version: Option<String>,
    /// The PRONOM unique identifier, e.g. `fmt/43`.
    pub puid: Option<String>,
}

/// What PREMIS records about an intellectual entity: a unit of content that is not one file
/// (a bag), so it has no size or format; written as `xsi:type="premis:intellectualEntity"`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntityFacts {
    /// The local identifier (`objectIdentifierType` `local`).
    pub identifier: String,
    /// `originalName`, e.g. the bag's path.
    pub original_name: String,
}

/// One object of a `premis:premis` document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PremisObject {
    /// A file (`premis:file`).
    File(ObjectFacts),
    /// An intellectual entity (`premis:intellectualEntity`).
    IntellectualEntity(EntityFacts),
}

impl From<ObjectFacts> for PremisObject {
    fn from(facts: ObjectFacts) -> Self {
        PremisObject::File(facts)
    }
}

impl From<EntityFacts> for PremisObject {
    fn from(facts: EntityFacts) -> Self {
        PremisObject::IntellectualEntity(facts)
    }
}

/// What PREMIS records about one event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventFacts {
    /// The local identifier (`eventIdentifierType` `local`).
    pub identifier: String,
    /// The LoC event type label, e.g. `ingestion`, `message digest calculation`.
    pub event_type: String,
    /// The LoC URI of that term, e.g. `http://id.loc.gov/vocabulary/preservation/eventType/ing`.
    pub event_type_uri: String,
    /// When it happened, as an `xs:dateTime` (UTC with `Z`): the schema types it as a plain
    /// string, so nothing checks it but the caller.
    pub date_time: String,
    /// `eventDetail`s, e.g. `program="qoima"; version="0.1.0"`: one
    /// `eventDetailInformation` each, in order.
    pub details: Vec<String>,
    /// `success`/`failure` for actions, `pass`/`fail` for checks, or a sentence.
    pub outcome: String,
    /// `eventOutcomeDetailNote`s (the digest, the tool's message, a finding): one
    /// `eventOutcomeDetail` each, in order.
    pub outcome_details: Vec<String>,
    /// The agents linked to the event, in order.
    pub agents: Vec<LinkedAgent>,
    /// `(identifier type, identifier value)` of the object the event concerns.
    pub object: Option<(String, String)>,
}

/// An agent as an event links to it (`linkingAgentIdentifier`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkedAgent {
    /// `linkingAgentIdentifierType`, e.g. `local`.
    pub identifier_type: String,
    /// `linkingAgentIdentifierValue`, e.g. `qoima-0.1.0`.
    pub identifier: String,
    /// `linkingAgentRole`'s text, e.g. `executing program`, `implementer`.
    pub role: String,
    /// The role's term URI in [`AGENT_ROLE_AUTHORITY_URI`](super::AGENT_ROLE_AUTHORITY_URI)'s vocabulary: when given, the
    /// role carries the `authority`, `authorityURI` and `valueURI` attributes.
    pub role_uri: Option<String>,
}

impl LinkedAgent {
    /// `agent` as the executing program (role [`EXECUTING_PROGRAM`], no vocabulary
    /// reference).
    pub fn executing_program(agent: &AgentFacts) -> Self {
        LinkedAgent {
            identifier_type: agent.identifier_type.clone(),
            identifier: agent.identifier.clone(),
            role: EXECUTING_PROGRAM.into(),
            role_uri: None,
        }
    }
}

/// What PREMIS records about an agent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentFacts {
    /// `agentIdentifierType`, e.g. `local`.
    pub identifier_type: String,
    /// `agentIdentifierValue`, e.g. `qoima-0.1.0`.
    pub identifier: String,
    /// `agentName`s, e.g. `qoima` (one element each, in order).
    pub names: Vec<String>,
    /// `agentType`: `software`, `organization`, `person`, …
    pub agent_type: Option<String>,
    /// `agentVersion`, for software.
    pub version: Option<String>,
    /// `agentNote`s (one element each, in order).
    pub notes: Vec<String>,
}

/// What PREMIS records about the rights in a file: one `rightsStatement` whose basis is
/// `other`, the statements themselves kept as given, as `otherRightsNote`s (nothing says
/// whether they are a copyright, a licence or a statute, so none is claimed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RightsFacts {
    /// The local identifier (`rightsStatementIdentifierType` `local`).
    pub identifier: String,
    /// `otherRightsBasis`, e.g. `rights statement from the descriptive metadata`.
    pub basis: String,
    /// The rights statements as text (`otherRightsNote`, one each, in order).
    pub notes: Vec<String>,
    /// `(identifier type, identifier value)` of the object the statement applies to.
    pub object: Option<(String, String)>,
}

impl AgentFacts {
    /// This program: identifier `qoima-<version>` (type `local`), name `qoima`, type
    /// `software` and its version.
    pub fn qoima() -> Self {
        Self::qoima_at(env!("CARGO_PKG_VERSION"))
    }

    /// qoima at `version` (the version that wrote a record being exported): identifier
    /// `qoima-<version>` (type `local`), name `qoima`, type `software`, that version.
    pub fn qoima_at(version: &str) -> Self {
        AgentFacts {
            identifier_type: "local".into(),
            identifier: format!("qoima-{version}"),
            names: vec!["qoima".into()],
            agent_type: Some("software".into()),
            version: Some(version.into()),
            notes: Vec::new(),
        }
    }
}
