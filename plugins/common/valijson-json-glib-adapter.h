/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A valijson adapter for json-glib, built like valijson's own adapters
 * (adapters/nlohmann_json_adapter.hpp): BasicAdapter supplies the type
 * casting semantics, the classes here only read JsonNode trees.
 *
 * Adapters, arrays, objects and iterators do not own anything: the caller
 * keeps the JsonNode tree alive (and unmodified) while they are in use. A
 * frozen value (enum and const values of a parsed schema) holds its own
 * reference.
 *
 * Numbers: json-glib stores integers as gint64 and other numbers as gdouble.
 * A double with no fractional part (3.0, 1e3) counts as an integer, as JSON
 * Schema draft 6 and later define "integer".
 *
 * Most code should use json-schema.h instead of including this file.
 */
#pragma once

/* valijson aborts on errors unless exceptions are enabled; every file that
 * includes valijson must see the same setting (the reelforge-common
 * dependency also passes it on the command line). */
#ifndef VALIJSON_USE_EXCEPTIONS
#define VALIJSON_USE_EXCEPTIONS 1
#endif

#include "gst-ptr.h"

#include <json-glib/json-glib.h>
#include <valijson/exceptions.hpp>
#include <valijson/internal/adapter.hpp>
#include <valijson/internal/basic_adapter.hpp>
#include <valijson/internal/frozen_value.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace valijson {
namespace adapters {

class JsonGlibAdapter;
class JsonGlibArrayValueIterator;
class JsonGlibObjectMemberIterator;

using JsonGlibObjectMember = std::pair<std::string, JsonGlibAdapter>;

namespace json_glib {

/* What a JsonNode holds, as JSON Schema sees it. */
enum class Kind { kNull, kBool, kInteger, kDouble, kString, kArray, kObject };

inline bool is_integral(double value) {
  /* [-2^63, 2^63) is what fits a gint64. */
  return std::isfinite(value) && value == std::trunc(value) && value >= -0x1p63 && value < 0x1p63;
}

inline Kind kind_of(JsonNode *node) {
  if (node == nullptr) return Kind::kNull;
  switch (json_node_get_node_type(node)) {
    /* A container node may have been set to NULL, which json-glib writes
     * out as null. */
    case JSON_NODE_OBJECT:
      return json_node_get_object(node) != nullptr ? Kind::kObject : Kind::kNull;
    case JSON_NODE_ARRAY:
      return json_node_get_array(node) != nullptr ? Kind::kArray : Kind::kNull;
    case JSON_NODE_NULL:
      return Kind::kNull;
    case JSON_NODE_VALUE:
      break;
  }
  const GType type = json_node_get_value_type(node);
  if (type == G_TYPE_INT64) return Kind::kInteger;
  if (type == G_TYPE_DOUBLE)
    return is_integral(json_node_get_double(node)) ? Kind::kInteger : Kind::kDouble;
  if (type == G_TYPE_BOOLEAN) return Kind::kBool;
  if (type == G_TYPE_STRING) return Kind::kString;
  return Kind::kNull;
}

/* Shared, sealed empty containers for default-constructed adapters. */
inline JsonNode *empty_object_node() {
  static const reelforge::JsonNodePtr node = [] {
    reelforge::JsonNodePtr empty(json_node_new(JSON_NODE_OBJECT));
    json_node_take_object(empty.get(), json_object_new());
    json_node_seal(empty.get());
    return empty;
  }();
  return node.get();
}

inline JsonNode *empty_array_node() {
  static const reelforge::JsonNodePtr node = [] {
    reelforge::JsonNodePtr empty(json_node_new(JSON_NODE_ARRAY));
    json_node_take_array(empty.get(), json_array_new());
    json_node_seal(empty.get());
    return empty;
  }();
  return node.get();
}

/* One object member; the name belongs to the JsonObject. */
struct Member {
  const char *name;
  JsonNode *value;
};

/* The members in insertion order (what json_object_get_members() gives),
 * which is document order for parsed JSON. */
inline std::shared_ptr<const std::vector<Member>> list_members(JsonObject *object) {
  auto members = std::make_shared<std::vector<Member>>();
  members->reserve(json_object_get_size(object));
  GList *names = json_object_get_members(object);
  for (GList *l = names; l != nullptr; l = l->next) {
    const char *name = static_cast<const char *>(l->data);
    members->push_back({name, json_object_get_member(object, name)});
  }
  g_list_free(names);
  return members;
}

}  // namespace json_glib

/* A JSON array: begin(), end() and size() over its elements. */
class JsonGlibArray {
 public:
  using const_iterator = JsonGlibArrayValueIterator;
  using iterator = JsonGlibArrayValueIterator;

  JsonGlibArray() : array_(json_node_get_array(json_glib::empty_array_node())) {}

  /* Throws if node does not hold an array. */
  explicit JsonGlibArray(JsonNode *node) {
    if (json_glib::kind_of(node) != json_glib::Kind::kArray)
      throwRuntimeError("Value is not an array.");
    array_ = json_node_get_array(node);
  }

  JsonGlibArrayValueIterator begin() const;
  JsonGlibArrayValueIterator end() const;
  size_t size() const { return json_array_get_length(array_); }

 private:
  JsonArray *array_;
};

/* A JSON object: begin(), end(), find() and size() over its members. */
class JsonGlibObject {
 public:
  using const_iterator = JsonGlibObjectMemberIterator;
  using iterator = JsonGlibObjectMemberIterator;

  JsonGlibObject() : JsonGlibObject(json_glib::empty_object_node()) {}

  /* Throws if node does not hold an object. */
  explicit JsonGlibObject(JsonNode *node) {
    if (json_glib::kind_of(node) != json_glib::Kind::kObject)
      throwRuntimeError("Value is not an object.");
    members_ = json_glib::list_members(json_node_get_object(node));
  }

  JsonGlibObjectMemberIterator begin() const;
  JsonGlibObjectMemberIterator end() const;
  /* end() when there is no member called property_name. */
  JsonGlibObjectMemberIterator find(const std::string &property_name) const;
  size_t size() const { return members_->size(); }

 private:
  /* Shared so that copies of this object, and iterators, stay valid. */
  std::shared_ptr<const std::vector<json_glib::Member>> members_;
};

/* An enum or const value kept independently of the document it came from:
 * it holds a reference to its own node (json_node_copy() shares the
 * contents of objects and arrays by reference, which keeps them alive). */
class JsonGlibFrozenValue : public FrozenValue {
 public:
  explicit JsonGlibFrozenValue(JsonNode *source) : value_(json_node_copy(source)) {}

  FrozenValue *clone() const override { return new JsonGlibFrozenValue(value_.get()); }

  bool equalTo(const Adapter &other, bool strict) const override;

 private:
  reelforge::JsonNodePtr value_;
};

/* Reads one JsonNode for BasicAdapter, which does the type casting. */
class JsonGlibValue {
 public:
  JsonGlibValue() : node_(json_glib::empty_object_node()) {}
  explicit JsonGlibValue(JsonNode *node) : node_(node) {}

  FrozenValue *freeze() const { return new JsonGlibFrozenValue(node_); }

  opt::optional<JsonGlibArray> getArrayOptional() const {
    if (isArray()) return opt::make_optional(JsonGlibArray(node_));
    return {};
  }

  bool getArraySize(size_t &result) const {
    if (!isArray()) return false;
    result = json_array_get_length(json_node_get_array(node_));
    return true;
  }

  bool getBool(bool &result) const {
    if (!isBool()) return false;
    result = json_node_get_boolean(node_);
    return true;
  }

  bool getDouble(double &result) const {
    if (!isDouble()) return false;
    result = json_node_get_double(node_);
    return true;
  }

  bool getInteger(int64_t &result) const {
    if (!isInteger()) return false;
    if (json_node_get_value_type(node_) == G_TYPE_INT64)
      result = json_node_get_int(node_);
    else
      result = static_cast<int64_t>(json_node_get_double(node_));
    return true;
  }

  opt::optional<JsonGlibObject> getObjectOptional() const {
    if (isObject()) return opt::make_optional(JsonGlibObject(node_));
    return {};
  }

  bool getObjectSize(size_t &result) const {
    if (!isObject()) return false;
    result = json_object_get_size(json_node_get_object(node_));
    return true;
  }

  bool getString(std::string &result) const {
    if (!isString()) return false;
    const char *value = json_node_get_string(node_);
    result = value != nullptr ? value : "";
    return true;
  }

  static bool hasStrictTypes() { return true; }

  bool isArray() const { return kind() == json_glib::Kind::kArray; }
  bool isBool() const { return kind() == json_glib::Kind::kBool; }
  bool isDouble() const { return kind() == json_glib::Kind::kDouble; }
  bool isInteger() const { return kind() == json_glib::Kind::kInteger; }
  bool isNull() const { return kind() == json_glib::Kind::kNull; }
  bool isNumber() const { return isInteger() || isDouble(); }
  bool isObject() const { return kind() == json_glib::Kind::kObject; }
  bool isString() const { return kind() == json_glib::Kind::kString; }

 private:
  json_glib::Kind kind() const { return json_glib::kind_of(node_); }

  JsonNode *node_;
};

/* The Adapter valijson's SchemaParser and Validator work with. */
class JsonGlibAdapter : public BasicAdapter<JsonGlibAdapter, JsonGlibArray, JsonGlibObjectMember,
                                            JsonGlibObject, JsonGlibValue> {
 public:
  /* An empty object. */
  JsonGlibAdapter() = default;

  explicit JsonGlibAdapter(JsonNode *node) : BasicAdapter(JsonGlibValue(node)) {}

  /* For valijson's document fetching, which hands out const documents;
   * nothing here writes to the node. */
  explicit JsonGlibAdapter(const JsonNode &node)
      : BasicAdapter(JsonGlibValue(const_cast<JsonNode *>(&node))) {}
};

/* Iterates over the elements of a JsonGlibArray, dereferencing to adapters. */
class JsonGlibArrayValueIterator {
 public:
  using iterator_category = std::bidirectional_iterator_tag;
  using value_type = JsonGlibAdapter;
  using difference_type = std::ptrdiff_t;
  using pointer = JsonGlibAdapter *;
  using reference = JsonGlibAdapter &;

  JsonGlibArrayValueIterator(JsonArray *array, guint index) : array_(array), index_(index) {}

  JsonGlibAdapter operator*() const {
    return JsonGlibAdapter(json_array_get_element(array_, index_));
  }

  DerefProxy<JsonGlibAdapter> operator->() const { return DerefProxy<JsonGlibAdapter>(**this); }

  bool operator==(const JsonGlibArrayValueIterator &other) const {
    return array_ == other.array_ && index_ == other.index_;
  }
  bool operator!=(const JsonGlibArrayValueIterator &other) const { return !(*this == other); }

  const JsonGlibArrayValueIterator &operator++() {
    ++index_;
    return *this;
  }

  JsonGlibArrayValueIterator operator++(int) {
    JsonGlibArrayValueIterator before(*this);
    ++index_;
    return before;
  }

  const JsonGlibArrayValueIterator &operator--() {
    --index_;
    return *this;
  }

  void advance(std::ptrdiff_t n) { index_ = static_cast<guint>(index_ + n); }

 private:
  JsonArray *array_;
  guint index_;
};

/* Iterates over the members of a JsonGlibObject in document order,
 * dereferencing to (name, adapter) pairs. */
class JsonGlibObjectMemberIterator {
 public:
  using iterator_category = std::bidirectional_iterator_tag;
  using value_type = JsonGlibObjectMember;
  using difference_type = std::ptrdiff_t;
  using pointer = JsonGlibObjectMember *;
  using reference = JsonGlibObjectMember &;

  JsonGlibObjectMemberIterator(std::shared_ptr<const std::vector<json_glib::Member>> members,
                               size_t index)
      : members_(std::move(members)), index_(index) {}

  JsonGlibObjectMember operator*() const {
    const json_glib::Member &member = (*members_)[index_];
    return JsonGlibObjectMember(member.name, JsonGlibAdapter(member.value));
  }

  DerefProxy<JsonGlibObjectMember> operator->() const {
    return DerefProxy<JsonGlibObjectMember>(**this);
  }

  bool operator==(const JsonGlibObjectMemberIterator &other) const {
    return members_ == other.members_ && index_ == other.index_;
  }
  bool operator!=(const JsonGlibObjectMemberIterator &other) const { return !(*this == other); }

  const JsonGlibObjectMemberIterator &operator++() {
    ++index_;
    return *this;
  }

  JsonGlibObjectMemberIterator operator++(int) {
    JsonGlibObjectMemberIterator before(*this);
    ++index_;
    return before;
  }

  const JsonGlibObjectMemberIterator &operator--() {
    --index_;
    return *this;
  }

 private:
  std::shared_ptr<const std::vector<json_glib::Member>> members_;
  size_t index_;
};

template <>
struct AdapterTraits<valijson::adapters::JsonGlibAdapter> {
  using DocumentType = JsonNode;

  static std::string adapterName() { return "JsonGlibAdapter"; }
};

inline bool JsonGlibFrozenValue::equalTo(const Adapter &other, bool strict) const {
  return JsonGlibAdapter(value_.get()).equalTo(other, strict);
}

inline JsonGlibArrayValueIterator JsonGlibArray::begin() const {
  return JsonGlibArrayValueIterator(array_, 0);
}

inline JsonGlibArrayValueIterator JsonGlibArray::end() const {
  return JsonGlibArrayValueIterator(array_, json_array_get_length(array_));
}

inline JsonGlibObjectMemberIterator JsonGlibObject::begin() const {
  return JsonGlibObjectMemberIterator(members_, 0);
}

inline JsonGlibObjectMemberIterator JsonGlibObject::end() const {
  return JsonGlibObjectMemberIterator(members_, members_->size());
}

inline JsonGlibObjectMemberIterator JsonGlibObject::find(const std::string &property_name) const {
  /* Objects in documents and schemas are small; a scan keeps the iterator a
   * plain position in the member list. */
  for (size_t i = 0; i < members_->size(); ++i)
    if (property_name == (*members_)[i].name) return JsonGlibObjectMemberIterator(members_, i);
  return end();
}

}  // namespace adapters
}  // namespace valijson
