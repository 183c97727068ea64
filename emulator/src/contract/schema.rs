//! A small `.proto` reader for contract tests: messages (with nested types,
//! oneofs and maps), enums with their values, and the `google.api.http`
//! rules of RPCs with their request type, body and response type. Written
//! for ZITADEL's protos; not a general parser.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) json_name: String,
    pub(crate) type_name: String,
    pub(crate) repeated: bool,
    /// Map value type, for `map<K, V>` fields.
    pub(crate) map_value: Option<String>,
}

/// Whether a JSON value is a request (zero values allowed) or a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Request,
    Response,
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) method: String,
    /// Path template with `{}` for parameters.
    pub(crate) path: String,
    /// Fully qualified request message.
    pub(crate) request: String,
    /// The rule's `body`: `"*"`, a field name of the request, or `None`.
    pub(crate) body: Option<String>,
    /// Fully qualified response message.
    pub(crate) response: String,
}

#[derive(Debug, Default)]
pub(crate) struct Schema {
    pub(crate) messages: BTreeMap<String, Vec<Field>>,
    pub(crate) enums: BTreeSet<String>,
    /// Value names of each enum.
    pub(crate) enum_values: BTreeMap<String, BTreeSet<String>>,
    pub(crate) rules: Vec<Rule>,
}

/// `/v1` services are mounted under a prefix by the gateway.
fn prefix_for(file: &Path) -> &'static str {
    match file.file_name().and_then(|n| n.to_str()) {
        Some("auth.proto") if file.parent().is_some_and(|p| p.ends_with("zitadel")) => "/auth/v1",
        Some("management.proto") => "/management/v1",
        Some("admin.proto") => "/admin/v1",
        Some("system.proto") => "/system/v1",
        _ => "",
    }
}

/// Whether a concrete path matches a normalized template (`{}` matches one
/// segment).
pub(crate) fn template_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let segs: Vec<&str> = path.split('/').collect();
    t.len() == segs.len() && t.iter().zip(&segs).all(|(a, b)| *a == "{}" || a == b)
}

/// Replaces every `{param}` (incl. `{name=**}`) with `{}`.
pub(crate) fn normalize(path: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    out.push_str("{}");
                }
                depth += 1;
            }
            '}' => depth -= 1,
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    out
}

fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '"' || c == '\'' {
            let quote = c;
            let mut s = String::from('"');
            i += 1;
            while i < chars.len() && chars[i] != quote {
                if chars[i] == '\\' {
                    i += 1;
                }
                if i < chars.len() {
                    s.push(chars[i]);
                }
                i += 1;
            }
            i += 1;
            tokens.push(s);
        } else if c.is_alphanumeric() || c == '_' || c == '.' || c == '-' || c == '+' {
            let mut s = String::new();
            while i < chars.len() && (chars[i].is_alphanumeric() || "_.-+".contains(chars[i])) {
                s.push(chars[i]);
                i += 1;
            }
            tokens.push(s);
        } else {
            tokens.push(c.to_string());
            i += 1;
        }
    }
    tokens
}

/// Skips a balanced block starting at `tokens[i]` (an opening bracket).
fn skip_block(tokens: &[String], mut i: usize) -> usize {
    let (open, close) = match tokens[i].as_str() {
        "{" => ("{", "}"),
        "[" => ("[", "]"),
        "(" => ("(", ")"),
        _ => return i + 1,
    };
    let mut depth = 0;
    while i < tokens.len() {
        if tokens[i] == open {
            depth += 1;
        } else if tokens[i] == close {
            depth -= 1;
            if depth == 0 {
                return i + 1;
            }
        }
        i += 1;
    }
    i
}

fn skip_statement(tokens: &[String], mut i: usize) -> usize {
    while i < tokens.len() && tokens[i] != ";" {
        if tokens[i] == "{" || tokens[i] == "[" || tokens[i] == "(" {
            i = skip_block(tokens, i);
        } else {
            i += 1;
        }
    }
    i + 1
}

struct Raw {
    package: String,
    /// Unresolved fields by message full name, with the scope to resolve in.
    messages: Vec<(String, Vec<Field>)>,
    rpcs: Vec<RawRpc>,
}

struct RawRpc {
    method: String,
    path: String,
    request: String,
    body: Option<String>,
    response: String,
}

/// Qualifies a type named in an `rpc` line with the file's package.
fn qualify(ty: &str, package: &str) -> String {
    if ty.contains('.') {
        ty.trim_start_matches('.').to_owned()
    } else {
        format!("{package}.{ty}")
    }
}

fn parse_file(text: &str, prefix: &str, schema: &mut Schema) -> Raw {
    let t = tokenize(text);
    let mut raw = Raw {
        package: String::new(),
        messages: Vec::new(),
        rpcs: Vec::new(),
    };
    let mut i = 0;
    // Stack of (kind, full name); kind: "message" | "enum" | "oneof" | "service" | "rpc" | "other".
    let mut stack: Vec<(&str, String)> = Vec::new();
    let mut current_rpc: Option<(String, String)> = None; // request and response type
    while i < t.len() {
        let tok = t[i].as_str();
        let top = stack.last().map(|(k, _)| *k);
        let scope = stack
            .iter()
            .rev()
            .find(|(k, _)| *k == "message")
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| raw.package.clone());
        match tok {
            "package" => {
                raw.package = t[i + 1].clone();
                i = skip_statement(&t, i);
            }
            "syntax" | "import" | "reserved" | "extensions" => i = skip_statement(&t, i),
            "option" => {
                if top == Some("rpc") {
                    // Look for http rules inside this option.
                    let end = skip_statement(&t, i);
                    let body = (i..end.saturating_sub(2))
                        .find(|&j| t[j] == "body" && t[j + 1] == ":" && t[j + 2].starts_with('"'))
                        .map(|j| t[j + 2][1..].to_owned());
                    let mut j = i;
                    while j + 2 < end {
                        if ["get", "post", "put", "patch", "delete"].contains(&t[j].as_str())
                            && t[j + 1] == ":"
                            && t[j + 2].starts_with("\"/")
                            && let Some((req, resp)) = &current_rpc
                        {
                            raw.rpcs.push(RawRpc {
                                method: t[j].to_uppercase(),
                                path: normalize(&format!("{prefix}{}", &t[j + 2][1..])),
                                request: req.clone(),
                                body: body.clone(),
                                response: resp.clone(),
                            });
                        }
                        j += 1;
                    }
                    i = end;
                } else {
                    i = skip_statement(&t, i);
                }
            }
            "message" | "enum" | "service" if t.get(i + 2).map(String::as_str) == Some("{") => {
                let name = format!("{scope}.{}", t[i + 1]);
                if tok == "enum" {
                    let end = skip_block(&t, i + 2);
                    let values = (i + 3..end.saturating_sub(1))
                        .filter(|&j| t.get(j + 1).map(String::as_str) == Some("="))
                        .filter(|&j| t[j - 1] == "{" || t[j - 1] == ";")
                        .map(|j| t[j].clone())
                        .collect();
                    schema.enum_values.insert(name.clone(), values);
                    schema.enums.insert(name);
                    i = end;
                    continue;
                }
                if tok == "message" {
                    raw.messages.push((name.clone(), Vec::new()));
                }
                stack.push((
                    if tok == "message" {
                        "message"
                    } else {
                        "service"
                    },
                    name,
                ));
                i += 3;
            }
            "oneof" if t.get(i + 2).map(String::as_str) == Some("{") => {
                stack.push(("oneof", String::new()));
                i += 3;
            }
            "rpc" => {
                // rpc Name ( [stream] Req ) returns ( [stream] Resp ) { ... } | ;
                let mut r = i + 3;
                if t[r] == "stream" {
                    r += 1;
                }
                let request = qualify(&t[r], &raw.package);
                let mut j = i + 1;
                while j < t.len() && t[j] != "returns" {
                    j += 1;
                }
                let mut k = j + 2;
                if t[k] == "stream" {
                    k += 1;
                }
                current_rpc = Some((request, qualify(&t[k], &raw.package)));
                let mut m = k + 1;
                while m < t.len() && t[m] != "{" && t[m] != ";" {
                    m += 1;
                }
                if t.get(m).map(String::as_str) == Some("{") {
                    stack.push(("rpc", String::new()));
                    i = m + 1;
                } else {
                    i = m + 1;
                }
            }
            "}" => {
                if let Some((kind, _)) = stack.pop()
                    && kind == "rpc"
                {
                    current_rpc = None;
                }
                i += 1;
            }
            ";" => i += 1,
            _ if top == Some("message") || top == Some("oneof") => {
                // Field: [repeated|optional] Type name = N [opts];  or map<K, V> name = N;
                let mut j = i;
                let mut repeated = false;
                if t[j] == "repeated" || t[j] == "optional" || t[j] == "required" {
                    repeated = t[j] == "repeated";
                    j += 1;
                }
                let (type_name, map_value) =
                    if t[j] == "map" && t.get(j + 1).map(String::as_str) == Some("<") {
                        let v = t[j + 4].clone();
                        j += 6;
                        ("map".to_owned(), Some(v))
                    } else {
                        let ty = t[j].clone();
                        j += 1;
                        (ty, None)
                    };
                if t.get(j + 1).map(String::as_str) == Some("=") {
                    let name = t[j].clone();
                    let field = Field {
                        json_name: crate::api::to_camel(&name),
                        name,
                        type_name: if map_value.is_some() {
                            type_name
                        } else {
                            format!("{scope}|{type_name}")
                        },
                        repeated,
                        map_value: map_value.map(|v| format!("{scope}|{v}")),
                    };
                    if let Some((_, fields)) =
                        raw.messages.iter_mut().rev().find(|(n, _)| *n == scope)
                    {
                        fields.push(field);
                    }
                }
                i = skip_statement(&t, i);
            }
            _ => i = skip_statement(&t, i),
        }
    }
    raw
}

const SCALARS: &[&str] = &[
    "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32",
    "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
];

/// Resolves `scope|Type` to a fully qualified name (or a scalar).
fn resolve(schema: &Schema, scoped: &str) -> String {
    let Some((scope, ty)) = scoped.split_once('|') else {
        return scoped.to_owned();
    };
    if SCALARS.contains(&ty) {
        return ty.to_owned();
    }
    if let Some(abs) = ty.strip_prefix('.') {
        return abs.to_owned();
    }
    let mut s = scope.to_owned();
    loop {
        let candidate = format!("{s}.{ty}");
        if schema.messages.contains_key(&candidate) || schema.enums.contains(&candidate) {
            return candidate;
        }
        match s.rfind('.') {
            Some(idx) => s.truncate(idx),
            None => break,
        }
    }
    ty.to_owned()
}

/// Reads every `.proto` file under `proto_dir` (recursively).
pub(crate) fn load(proto_dir: &Path) -> std::io::Result<Schema> {
    let mut schema = Schema::default();
    let mut raws = Vec::new();
    let mut stack = vec![proto_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().and_then(|e| e.to_str()) == Some("proto") {
                let text = std::fs::read_to_string(&path)?;
                raws.push(parse_file(&text, prefix_for(&path), &mut schema));
            }
        }
    }
    for raw in &raws {
        for (name, fields) in &raw.messages {
            schema.messages.insert(name.clone(), fields.clone());
        }
    }
    let names: Vec<String> = schema.messages.keys().cloned().collect();
    for name in names {
        let fields: Vec<Field> = schema.messages[&name]
            .iter()
            .map(|f| Field {
                type_name: resolve(&schema, &f.type_name),
                map_value: f.map_value.as_ref().map(|v| resolve(&schema, v)),
                ..f.clone()
            })
            .collect();
        schema.messages.insert(name, fields);
    }
    for raw in raws {
        for rpc in raw.rpcs {
            schema.rules.push(Rule {
                method: rpc.method,
                path: rpc.path,
                request: rpc.request,
                body: rpc.body,
                response: rpc.response,
            });
        }
    }
    Ok(schema)
}

impl Schema {
    /// The rule for a concrete request (most specific template wins).
    pub(crate) fn rule_for(&self, method: &str, path: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .filter(|r| r.method == method && template_matches(&r.path, path))
            .min_by_key(|r| r.path.matches("{}").count())
    }

    /// Checks query parameter names (dotted field paths of the request
    /// message, JSON or proto names) and enum values among them.
    pub(crate) fn check_query(&self, rule: &Rule, query: &str, problems: &mut Vec<String>) {
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let at = format!("query {key}");
            let mut message = rule.request.clone();
            let mut segments = key.split('.').peekable();
            while let Some(segment) = segments.next() {
                let Some(field) = self.messages.get(&message).and_then(|fs| {
                    fs.iter()
                        .find(|f| f.json_name == segment || f.name == segment)
                }) else {
                    problems.push(format!("{at}: no field {segment} in {message}"));
                    break;
                };
                if segments.peek().is_some() {
                    message.clone_from(&field.type_name);
                } else if self.enums.contains(&field.type_name) {
                    let known = self
                        .enum_values
                        .get(&field.type_name)
                        .is_none_or(|vs| vs.contains(value.as_ref()));
                    if !known && value.parse::<i32>().is_err() {
                        problems.push(format!("{at}: {value} is not a {}", field.type_name));
                    }
                }
            }
        }
    }

    /// Checks a response JSON value against a message: unknown keys, wrong
    /// JSON types (int64 as strings, enums as names) and zero values that
    /// protojson omits.
    pub(crate) fn check(&self, message: &str, value: &Value, at: &str, problems: &mut Vec<String>) {
        self.check_message(message, value, at, Mode::Response, problems);
    }

    /// Checks a request JSON value against a message: unknown keys, wrong
    /// JSON types (int64 as strings, enums as known names). Zero values are
    /// allowed in requests.
    pub(crate) fn check_request(
        &self,
        message: &str,
        value: &Value,
        at: &str,
        problems: &mut Vec<String>,
    ) {
        self.check_message(message, value, at, Mode::Request, problems);
    }

    /// Checks the body of a request to `rule` (the body rule decides which
    /// message or field it is).
    pub(crate) fn check_request_body(
        &self,
        rule: &Rule,
        body: &Value,
        at: &str,
        problems: &mut Vec<String>,
    ) {
        let empty = body.is_null() || body.as_object().is_some_and(|o| o.is_empty());
        match rule.body.as_deref() {
            // No body at all is fine for any rule (the gateway accepts EOF).
            _ if body.is_null() => {}
            None if empty => {}
            None => problems.push(format!("{at}: a body was sent but the rule has none")),
            Some("*") => self.check_request(&rule.request, body, at, problems),
            Some(field) => {
                let f = self
                    .messages
                    .get(&rule.request)
                    .and_then(|fs| fs.iter().find(|f| f.name == field));
                match f {
                    Some(f) => {
                        let f = f.clone();
                        self.check_field(&f, &rule.request, body, at, Mode::Request, problems);
                    }
                    None => {
                        problems.push(format!("{at}: body field {field} not in {}", rule.request))
                    }
                }
            }
        }
    }

    fn check_message(
        &self,
        message: &str,
        value: &Value,
        at: &str,
        mode: Mode,
        problems: &mut Vec<String>,
    ) {
        let Some(fields) = self.messages.get(message) else {
            if !message.starts_with("google.protobuf.") {
                problems.push(format!("{at}: unknown message {message}"));
            }
            return;
        };
        let Some(obj) = value.as_object() else {
            problems.push(format!("{at}: expected an object for {message}"));
            return;
        };
        for (key, v) in obj {
            let path = format!("{at}.{key}");
            let Some(f) = fields
                .iter()
                .find(|f| f.json_name == *key || f.name == *key)
            else {
                problems.push(format!("{path}: no field {key} in {message}"));
                continue;
            };
            self.check_field(f, message, v, &path, mode, problems);
        }
    }

    fn check_field(
        &self,
        f: &Field,
        message: &str,
        v: &Value,
        path: &str,
        mode: Mode,
        problems: &mut Vec<String>,
    ) {
        if let Some(value_type) = &f.map_value {
            match v.as_object() {
                Some(m) => {
                    for (mk, mv) in m {
                        self.check_value(value_type, mv, &format!("{path}[{mk}]"), mode, problems);
                    }
                }
                None => problems.push(format!("{path}: expected a map")),
            }
        } else if f.repeated {
            match v.as_array() {
                Some(items) if items.is_empty() && mode == Mode::Response => {
                    problems.push(format!("{path}: empty list should be omitted"))
                }
                Some(items) => {
                    for (n, item) in items.iter().enumerate() {
                        self.check_value(
                            &f.type_name,
                            item,
                            &format!("{path}[{n}]"),
                            mode,
                            problems,
                        );
                    }
                }
                None => problems.push(format!("{path}: expected a list")),
            }
        } else {
            self.check_value(&f.type_name, v, path, mode, problems);
            let zero = matches!(v, Value::Bool(false)) || v == "" || v == "0" || v == 0;
            if zero && mode == Mode::Response && !message.starts_with("google.protobuf.") {
                problems.push(format!("{path}: zero value {v} should be omitted"));
            }
        }
    }

    fn check_value(
        &self,
        type_name: &str,
        v: &Value,
        at: &str,
        mode: Mode,
        problems: &mut Vec<String>,
    ) {
        let ok = match type_name {
            "int64" | "uint64" | "sint64" | "fixed64" | "sfixed64" => v.is_string(),
            "int32" | "uint32" | "sint32" | "fixed32" | "sfixed32" | "double" | "float" => {
                v.is_number()
            }
            "bool" => v.is_boolean(),
            "string" | "bytes" => v.is_string(),
            "google.protobuf.Timestamp" | "google.protobuf.Duration" => v.is_string(),
            "google.protobuf.Struct"
            | "google.protobuf.Value"
            | "google.protobuf.ListValue"
            | "google.protobuf.Any" => true,
            t if self.enums.contains(t) => v
                .as_str()
                .is_some_and(|name| self.enum_values.get(t).is_none_or(|vs| vs.contains(name))),
            t => {
                self.check_message(t, v, at, mode, problems);
                true
            }
        };
        if !ok {
            problems.push(format!("{at}: {v} is not a JSON {type_name}"));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn the_reader_knows_fields_with_json_names_nested_types_and_enums() {
        let schema = super::load(&super::super::default_proto_dir()).unwrap();
        let create = &schema.messages["zitadel.session.v2.CreateSessionResponse"];
        let names: Vec<&str> = create.iter().map(|f| f.json_name.as_str()).collect();
        assert_eq!(
            names,
            ["details", "sessionId", "sessionToken", "challenges"]
        );
        assert_eq!(create[0].type_name, "zitadel.object.v2.Details");
        let factors = &schema.messages["zitadel.session.v2.Factors"];
        assert!(factors.iter().any(|f| f.json_name == "webAuthN"));
        assert!(schema.enum_values["zitadel.user.v2.UserState"].contains("USER_STATE_ACTIVE"));
    }
}
