"""What opsweek watches outside itself: the tracker's and the chat's last readings, the team
channel's lines, and how each connection last went."""
