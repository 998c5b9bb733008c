/* --image's pure part: libguestfs's root device as the guest's virtio disk. */
#include "guest/image.h"
#include "unit.h"

#include <errno.h>

int main(void)
{
	char dev[32];

	CHECK_EQ_INT(image_guest_dev("/dev/sda1", dev, sizeof(dev)), 0, "first partition");
	CHECK_EQ_STR(dev, "vda1", "sda1 is the guest's vda1");
	CHECK_EQ_INT(image_guest_dev("/dev/sda", dev, sizeof(dev)), 0, "whole disk");
	CHECK_EQ_STR(dev, "vda", "sda is vda");
	CHECK_EQ_INT(image_guest_dev("/dev/vda15", dev, sizeof(dev)), 0, "virtio name kept");
	CHECK_EQ_STR(dev, "vda15", "vda15");
	CHECK_EQ_INT(image_guest_dev("/dev/sdb1", dev, sizeof(dev)), -ENOTSUP, "second disk");
	CHECK_EQ_INT(image_guest_dev("/dev/debian-vg/root", dev, sizeof(dev)), -ENOTSUP, "LVM");
	CHECK_EQ_INT(image_guest_dev("/dev/md0", dev, sizeof(dev)), -ENOTSUP, "md");
	CHECK_EQ_INT(image_guest_dev("btrfsvol:/dev/sda2/@", dev, sizeof(dev)), -ENOTSUP, "btrfs subvolume");
	CHECK_EQ_INT(image_guest_dev("/dev/sda1x", dev, sizeof(dev)), -ENOTSUP, "junk after the number");
	CHECK_EQ_INT(image_guest_dev("/dev/sda0", dev, sizeof(dev)), -ENOTSUP, "partition 0");
	CHECK_EQ_INT(image_guest_dev("/dev/sda12345", dev, sizeof(dev)), -ENOTSUP, "absurd partition");
	CHECK_EQ_INT(image_guest_dev("/dev/sda1", dev, 4), -ENAMETOOLONG, "no room");
	return unit_done();
}
