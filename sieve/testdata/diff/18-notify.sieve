require ["enotify", "variables"];
if header :matches "Subject" "*" {
  notify :importance "1" :message "New: ${1}" "mailto:alerts@example.net";
}
