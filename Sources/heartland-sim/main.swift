print("heartland-sim: not built yet (issue 3)")
