require ["fileinto", "imap4flags"];
if header :matches "Subject" "*?*" { keep :flags "$Seen1"; }
fileinto "Copy";
if header :contains "Content-Type" "multipart" { discard; }
