require ["foreverypart", "mime", "fileinto", "variables"];
foreverypart {
  if header :mime :type "Content-Type" "image" { fileinto "Images"; break; }
  if header :mime :subtype "Content-Type" "html" { set "html" "yes"; }
}
if string "${html}" "yes" { fileinto "Html"; }
if exists :mime :anychild "Content-Disposition" { fileinto "Attachments"; }
