print("bridgectl")
