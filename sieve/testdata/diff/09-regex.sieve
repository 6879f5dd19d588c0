require ["regex", "fileinto", "variables"];
if header :regex "Subject" "^\\[([a-z]+)[- ]?([a-z]*)\\]" { fileinto "tag-${1}"; }
elsif header :regex :comparator "i;octet" "From" "[0-9]{3,}" { fileinto "Numbers"; }
