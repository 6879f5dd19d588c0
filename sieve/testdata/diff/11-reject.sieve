require ["reject"];
if header :contains "Subject" ["$$$", "!!!"] { reject "No thanks."; }
