/// One `reasoning_details` entry assembled from the fragments that share its index: `text` and
/// `summary` fragments are appended, any other non-null key overwrites. Appending is amortized
/// O(fragment), so a stream of thousands of reasoning chunks costs linear time, not quadratic.
/// The one reasoning merge, used by the response translator and the stream state machine alike.
struct ReasoningDetailAccumulator {
    /// The keys in first-seen order; `text` and `summary` hold placeholders until `object`.
    private var members: JSONObject
    private var text: String?
    private var summary: String?

    init(_ first: JSONObject) {
        members = JSONObject()
        add(first)
    }

    mutating func add(_ fragment: JSONObject) {
        for member in fragment.members {
            switch member.key {
            case "text" where member.value.stringValue != nil:
                if text == nil {
                    text = ""
                    placeholder("text")
                }
                text!.append(member.value.stringValue!)
            case "summary" where member.value.stringValue != nil:
                if summary == nil {
                    summary = ""
                    placeholder("summary")
                }
                summary!.append(member.value.stringValue!)
            default:
                if !member.value.isNull || members[member.key] == nil { members[member.key] = member.value }
            }
        }
    }

    private mutating func placeholder(_ key: String) {
        if members[key] == nil { members.append(key, .null) }
    }

    /// The type of the detail (`reasoning.text`, `reasoning.summary`, `reasoning.encrypted`).
    var type: String? { members["type"]?.stringValue }

    /// The whole detail.
    var object: JSONObject {
        var o = members
        if let text { o["text"] = .string(text) }
        if let summary { o["summary"] = .string(summary) }
        return o
    }
}
